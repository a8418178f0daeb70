"""Comparing a migrated database with the models: a tenant database with TenantBase's tables
(migrations/tenant), the control database with ControlBase's (migrations/control).

What alembic's compare_metadata compares (with compare_type): tables, columns (name, type,
nullability), indexes, unique constraints and foreign keys. What it does not: CHECK
constraints, column order, and server defaults unless compare_server_default is set. A
generated column (Computed) is a server default to it, so by default neither its expression
nor whether the column is generated at all is compared; with compare_server_default it
compares a loosely normalised text and can only warn, never report a difference, and on
PostgreSQL, which stores the expression rewritten (casts, parentheses), that warning is raised
for identical expressions. So generated columns are compared here instead, exactly: the
database's expression of each against the one the same database stores for the models'
definition, created in a scratch copy of the table inside a transaction that is rolled back.
"""
from __future__ import annotations

import re
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Computed, MetaData, Table, create_engine, inspect, text
from sqlalchemy.pool import NullPool

import core.models  # noqa: F401  (every table on TenantBase.metadata and ControlBase.metadata)
from core.extensions import ControlBase
from core.tenancy.base import TenantBase
from core.tenancy.migrations import current_revision, head_revision

_QUOTES = {'"': '"', "'": "'", "`": "`", "[": "]"}


def _outside_quotes(sql: str):
    """(index, character, depth) of each character of `sql` outside quoted text, depth being
    the number of parentheses open before it."""
    depth, i = 0, 0
    while i < len(sql):
        if sql[i] in _QUOTES:
            i = sql.index(_QUOTES[sql[i]], i + 1) + 1
            continue
        depth -= sql[i] == ")"
        yield i, sql[i], depth
        depth += sql[i] == "("
        i += 1


def _closing(sql: str, opening: int) -> int:
    return next(opening + i for i, char, depth in _outside_quotes(sql[opening:]) if char == ")" and depth == 0)


def sqlite_generated_expression(create_table: str, column: str) -> str | None:
    """The expression of `column`'s `[GENERATED ALWAYS] AS (…)` in SQLite's CREATE TABLE text,
    as written. (SQLAlchemy's reflection finds none when a comma comes between the column's
    name and GENERATED, as in `final_price NUMERIC(12, 2) … GENERATED ALWAYS AS (…)`.)"""
    body_start = create_table.index("(")
    body = create_table[body_start + 1:_closing(create_table, body_start)]
    cuts = [i for i, char, depth in _outside_quotes(body) if char == "," and depth == 0]
    for start, end in zip([-1, *cuts], [*cuts, len(body)]):
        definition = body[start + 1:end].strip()
        name = re.match(r'"[^"]*"|`[^`]*`|\[[^\]]*\]|\S+', definition).group()
        if name.strip('"`[]').lower() != column.lower():
            continue
        top_level = [" "] * len(definition)
        for i, char, depth in _outside_quotes(definition):
            top_level[i] = char if depth == 0 else " "
        clause = re.search(r"\bAS\s*\(", "".join(top_level), re.IGNORECASE)
        if clause is None:
            return None
        return definition[clause.end():_closing(definition, clause.end() - 1)].strip()
    return None


def generated_columns(conn, table_name: str) -> dict[str, tuple[str, bool]]:
    """{column: (expression as the database keeps it, stored?)} of a table's generated columns."""
    columns = {c["name"]: c["computed"] for c in inspect(conn).get_columns(table_name) if "computed" in c}
    if conn.dialect.name == "sqlite":
        create_table = conn.scalar(text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
                                   {"name": table_name})
        return {name: (sqlite_generated_expression(create_table, name), bool(computed.get("persisted")))
                for name, computed in columns.items()}
    return {name: (computed["sqltext"], bool(computed.get("persisted"))) for name, computed in columns.items()}


def _generated_as_the_models_declare(conn, table: Table) -> dict[str, tuple[str, bool]]:
    """generated_columns() of a scratch copy of `table`'s columns, as the models declare them,
    made in this database and rolled back: the database rewrites the expressions as it does
    for the real table, so the two compare exactly."""
    scratch = Table(f"schema_drift_{table.name}", MetaData(), *(
        Column(c.name, c.type, *([Computed(c.computed.sqltext, persisted=c.computed.persisted)]
                                 if c.computed is not None else []))
        for c in table.columns))
    transaction = conn.begin()
    try:
        scratch.create(conn)
        return generated_columns(conn, scratch.name)
    finally:
        transaction.rollback()


def generated_column_drift(conn, metadata: MetaData) -> list[tuple]:
    """("generated", table, column, in the database, as the models declare) for every generated
    column whose expression or storage differs, or that is generated on one side only."""
    drift = []
    for table in metadata.sorted_tables:
        in_database = generated_columns(conn, table.name)
        conn.rollback()  # end the reading transaction before the scratch copy's
        declared = (_generated_as_the_models_declare(conn, table)
                    if any(c.computed is not None for c in table.columns) else {})
        for name in sorted(set(in_database) | set(declared)):
            if in_database.get(name) != declared.get(name):
                drift.append(("generated", table.name, name, in_database.get(name), declared.get(name)))
    return drift


def _drift(db_url: str, metadata: MetaData, head: str) -> list:
    """What autogenerate would still write for the database at `db_url` (at `head`), and every
    generated column that differs from the models' (generated_column_drift): [] when the
    migrations build exactly the models' schema, as far as the module's doc says."""
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        assert current_revision(engine) == head
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
            conn.rollback()
            return differences + generated_column_drift(conn, metadata)
    finally:
        engine.dispose()


def schema_drift(db_url: str) -> list:
    """_drift of the tenant database at `db_url` against TenantBase's tables."""
    return _drift(db_url, TenantBase.metadata, head_revision())


def control_schema_drift(db_url: str, migrations: Path) -> list:
    """The same for the control database at `db_url`, migrated by the history in `migrations`
    (the app's CONTROL_MIGRATIONS)."""
    config = Config()
    config.set_main_option("script_location", str(migrations))
    return _drift(db_url, ControlBase.metadata, ScriptDirectory.from_config(config).get_current_head())
