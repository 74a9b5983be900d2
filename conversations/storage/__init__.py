"""Storage: tables, the database set-up, and the queries every part shares."""
