"""The `fieldsvc` click commands that work on the database (demo, plan, scorecard, import)."""
