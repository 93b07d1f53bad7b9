"""Stock: serialised terminals and counted parts per place, every move a row (issue 20)."""
