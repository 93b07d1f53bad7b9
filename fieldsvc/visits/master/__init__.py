"""Master data: accounts and sign-in rules, bulk imports, merchants' opening hours."""
