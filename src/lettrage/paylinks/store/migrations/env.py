"""Alembic environment: runs on the connection `migrate()` hands over (no alembic.ini needed)."""

from alembic import context

from lettrage.paylinks.store.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite alters tables by copying them; batch mode does that for us
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
