"""Alembic environment: always driven from `sereno.core.migrate`, which hands over a live connection."""

from alembic import context

from sereno.core.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
