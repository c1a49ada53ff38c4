"""Persistence through SQLAlchemy 2: PostgreSQL in production, SQLite as the embedded default."""
