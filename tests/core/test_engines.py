"""Tenant databases stay bounded however many tenants there are: SQLite files in an LRU of
engines, database servers through one engine and one bounded pool each (its connections are
tested against a real server in tests/postgres/test_connection_bounds.py)."""
from __future__ import annotations

from sqlalchemy import event, text

from core.tenancy.engines import StorePool, TenantDatabases


def test_files_keep_at_most_capacity_engines(tmp_path):
    registry = TenantDatabases(capacity=3)
    urls = [f"sqlite:///{tmp_path / f't{i}.db'}" for i in range(10)]
    for url in urls:
        with registry.connect(url, write=True) as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS x (id INTEGER)"))
            conn.commit()
    assert len(registry) == 3
    assert list(registry._files) == urls[-3:]


def test_a_writing_connection_begins_immediate(tmp_path):
    registry = TenantDatabases()
    url = f"sqlite:///{tmp_path / 'w.db'}"
    engine = registry.engine(url)
    statements = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, statement, *rest: statements.append(statement))
    with registry.connect(url, write=True) as conn, conn.begin():
        conn.execute(text("CREATE TABLE x (id INTEGER)"))
    with registry.connect(url) as conn, conn.begin():
        conn.execute(text("SELECT count(*) FROM x"))
    assert statements == ["BEGIN IMMEDIATE", "CREATE TABLE x (id INTEGER)", "BEGIN", "SELECT count(*) FROM x"]


def test_recently_used_file_engine_survives_eviction(tmp_path):
    registry = TenantDatabases(capacity=2)
    a, b, c = (f"sqlite:///{tmp_path / f'{n}.db'}" for n in "abc")
    engine_a = registry.engine(a)
    registry.engine(b)
    assert registry.engine(a) is engine_a  # touch a: b is now least recently used
    registry.engine(c)
    assert set(registry._files) == {a, c}


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path):
    registry = TenantDatabases()
    with registry.connect(f"sqlite:///{tmp_path / 'p.db'}") as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_the_stores_of_a_server_share_one_engine_and_one_bounded_pool():
    registry = TenantDatabases(server_connections=5, pool_timeout=2)
    one = registry.engine("postgresql+psycopg://u@127.0.0.1:1/ecom_tenant_one")
    assert registry.engine("postgresql+psycopg://u@127.0.0.1:1/ecom_tenant_two") is one
    assert registry.engine("postgresql+psycopg://u@127.0.0.1:2/ecom_tenant_one") is not one   # another server
    assert isinstance(one.pool, StorePool) and (one.pool.limit, one.pool.timeout) == (5, 2)
    assert len(registry) == 0   # no file engine
    registry.dispose_all()


def test_a_passing_visit_leaves_the_file_cache_as_it_was(tmp_path):
    """What the recovery sweep uses to look into every store: the cached engine when there is
    one (not moved up the LRU), else a one-off engine with no pool, disposed afterwards."""
    registry = TenantDatabases(capacity=2)
    a, b, other = (f"sqlite:///{tmp_path / f'{n}.db'}" for n in ("a", "b", "other"))
    engine_a, engine_b = registry.engine(a), registry.engine(b)

    with registry.passing(a) as conn:
        assert conn.engine is engine_a
    with registry.passing(other) as conn:
        assert conn.engine not in (engine_a, engine_b)
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1  # a tenant engine all the same
    assert list(registry._files) == [a, b]  # nothing added, a not moved up
