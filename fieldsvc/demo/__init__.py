"""Deterministic Tehran demo data: `build_demo()` builds the database, `demo_digest()` fingerprints it."""
