"""Alembic environment: runs on the connection interviewd hands over (see db.migrate)."""

from __future__ import annotations

from alembic import context

from interviewd.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only used through interviewd.store.db
    raise RuntimeError("run migrations through interviewd.store.db.migrate()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
