"""Work orders from the PSP: install, removal, relocation, replacement (issue 20)."""
