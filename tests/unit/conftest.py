"""Fixtures of the unit tier: our own code, with temporary SQLite files at most."""
