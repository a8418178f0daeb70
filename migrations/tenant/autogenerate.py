"""Write a new tenant migration from the difference between the models and head:

    .venv/bin/python -m migrations.tenant.autogenerate "add carts" 0002
"""
import sys
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine

from core.tenancy.migrations import alembic_config, migration_transaction


def main(message: str, rev_id: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'scratch.db'}")
        config = alembic_config()
        with migration_transaction(engine) as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            command.revision(config, message=message, autogenerate=True, rev_id=rev_id)
        engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
