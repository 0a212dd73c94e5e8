"""Migrations run up from an empty database, on SQLite and PostgreSQL, and match the models."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from sereno.core import migrate
from sereno.core.db import Database
from sereno.core.schema import metadata


def test_upgrade_from_empty_reaches_head_and_matches_models(database_url: str) -> None:
    db = Database(database_url)
    try:
        assert migrate.current_revision(db) is None
        migrate.upgrade(db)
        assert migrate.is_current(db)
        migrate.upgrade(db)  # again: a no-op
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []
    finally:
        db.dispose()


def test_downgrade_to_empty_and_up_again(database_url: str) -> None:
    db = Database(database_url)
    try:
        migrate.upgrade(db)
        _downgrade(db)
        assert migrate.current_revision(db) is None
        migrate.upgrade(db)
        assert migrate.is_current(db)
    finally:
        db.dispose()


def _downgrade(db: Database) -> None:
    from alembic import command

    cfg = migrate._config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
