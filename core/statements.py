"""Statements SQLAlchemy compiles anew on every use, compiled once per process here; and rows
written by them made ORM objects without reading them back.

SQLAlchemy 2.0 caches the compiled form of most statements, but not of its dialects' INSERT
constructs (their classes say inherit_cache = False): an INSERT … ON CONFLICT DO NOTHING
RETURNING built and compiled for each order or idempotency claim cost more CPU than running it
(about 0.7 ms each, bench/checkout.py and bench/purchases.py). `insert_or_skip` compiles it once
per table and dialect into a text() whose parameters are typed as their columns.
"""
from __future__ import annotations

from sqlalchemy import Column, Dialect, Table, TextClause, bindparam, text
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.dialects.sqlite.base import SQLiteDialect

# Each database's INSERT construct, and its dialect without a driver (to compile with :name parameters).
_DIALECT_INSERTS = {"sqlite": (sqlite_insert, SQLiteDialect), "postgresql": (postgresql_insert, PGDialect)}
_COMPILED: dict[tuple[str, str, tuple[str, ...], str], TextClause] = {}


def insert_or_skip(dialect: Dialect, table: Table, conflict: tuple[Column, ...], returning: Column) -> TextClause:
    """INSERT INTO `table` (every column, each a parameter named as it) … ON CONFLICT (`conflict`)
    DO NOTHING RETURNING `returning`, for `dialect`: it returns the row's `returning` value when
    the row was inserted, and nothing when a row with the same `conflict` values exists (a
    committed one, or a concurrent transaction's once it commits). Any other constraint raises."""
    key = (dialect.name, table.name, tuple(column.name for column in conflict), returning.name)
    statement = _COMPILED.get(key)
    if statement is None:
        dialect_insert, base_dialect = _DIALECT_INSERTS[dialect.name]
        insert = dialect_insert(table).on_conflict_do_nothing(index_elements=list(conflict)).returning(returning)
        named = base_dialect(paramstyle="named")  # :name parameters, which text() binds by name
        statement = _COMPILED[key] = text(str(insert.compile(dialect=named))).bindparams(
            *(bindparam(column.name, type_=column.type) for column in table.columns))
    return statement


def loaded(model, values: dict, **related):
    """An instance of `model` as a query would load the row `values` (every column set, no
    change pending), with `related` relationships set as loaded too; not yet in a session."""
    instance = model.__mapper__.class_manager.new_instance()
    for key, value in {**values, **related}.items():
        set_committed_value(instance, key, value)
    return instance


def persistent(session: Session, *instances) -> None:
    """Attach loaded() instances of rows just written to `session` as persistent, without a
    statement: later changes to them flush as UPDATEs."""
    for instance in instances:
        make_transient_to_detached(instance)
    session.add_all(instances)
