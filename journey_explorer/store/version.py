"""The project schema version, kept apart so opening an up-to-date project needs no migration code.

Bump it with every new migration in ``store.schema``; ``migrate`` stores it as SQLite's user_version.
"""
SCHEMA_VERSION = 5
