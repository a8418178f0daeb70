"""SQLite index hints through SQLAlchemy's own `Select.with_hint(table, text, "sqlite")`.

SQLAlchemy renders table hints for MySQL and SQL Server but drops them for SQLite. A tenant's
SQLite database has no planner statistics (nobody runs ANALYZE on it), so on a hot query the
planner can pick an index that forces a sort of thousands of rows when another would stop after
one page; `INDEXED BY` names the right one. Hints given for "sqlite" are ignored by every other
dialect (PostgreSQL plans from its statistics). Importing this module installs the rendering.
"""
from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.ext.compiler import compiles


@compiles(Table, "sqlite")
def _table_with_sqlite_hint(table, compiler, **kw):
    rendered = compiler.visit_table(table, **kw)
    hints = kw.get("fromhints")
    if kw.get("asfrom") and hints and table in hints:
        rendered += " " + hints[table]
    return rendered
