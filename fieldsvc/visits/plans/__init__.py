"""Planning: the PM due pool, plan runs (one owner for web, CLI and jobs), the horizon."""
