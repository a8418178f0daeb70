"""The tenant engine registry stays bounded however many tenants there are."""
from __future__ import annotations

from sqlalchemy import text

from core.tenancy.engines import EngineRegistry


def test_registry_keeps_at_most_capacity_engines(tmp_path):
    registry = EngineRegistry(capacity=3)
    urls = [f"sqlite:///{tmp_path / f't{i}.db'}" for i in range(10)]
    for url in urls:
        with registry.bind(url, write=True).begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS x (id INTEGER)"))
    assert len(registry) == 3
    assert registry._engines.keys() == set(urls[-3:])
    assert registry._writers.keys() == set(urls[-3:])  # an evicted engine's writer goes with it


def test_a_writing_bind_is_the_same_engine_beginning_immediate(tmp_path):
    from sqlalchemy import event

    registry = EngineRegistry()
    url = f"sqlite:///{tmp_path / 'w.db'}"
    engine, writer = registry.engine(url), registry.bind(url, write=True)
    assert registry.bind(url, write=False) is engine
    assert registry.bind(url, write=True) is writer  # made once per engine
    assert writer.pool is engine.pool
    statements = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, statement, *rest: statements.append(statement))
    with writer.begin() as conn:
        conn.execute(text("CREATE TABLE x (id INTEGER)"))
    with engine.begin() as conn:
        conn.execute(text("SELECT count(*) FROM x"))
    assert statements == ["BEGIN IMMEDIATE", "CREATE TABLE x (id INTEGER)", "BEGIN", "SELECT count(*) FROM x"]


def test_recently_used_engine_survives_eviction(tmp_path):
    registry = EngineRegistry(capacity=2)
    a, b, c = (f"sqlite:///{tmp_path / f'{n}.db'}" for n in "abc")
    engine_a = registry.engine(a)
    registry.engine(b)
    assert registry.engine(a) is engine_a  # touch a: b is now least recently used
    registry.engine(c)
    assert set(registry._engines) == {a, c}


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path):
    registry = EngineRegistry()
    with registry.engine(f"sqlite:///{tmp_path / 'p.db'}").connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_postgres_engines_have_small_bounded_pools():
    registry = EngineRegistry(pool_size=2, max_overflow=3)
    engine = registry.engine("postgresql+psycopg://u@127.0.0.1:1/never_connected")
    assert engine.pool.size() == 2 and engine.pool._max_overflow == 3
    registry.dispose_all()
    assert len(registry) == 0


def test_a_passing_visit_leaves_the_cache_as_it_was(tmp_path):
    """What the recovery sweep uses to look into every store: the cached engine when there is
    one (not moved up the LRU), else a one-off engine with no pool, disposed afterwards."""
    from sqlalchemy.pool import NullPool

    registry = EngineRegistry(capacity=2)
    a, b, other = (f"sqlite:///{tmp_path / f'{n}.db'}" for n in ("a", "b", "other"))
    engine_a, engine_b = registry.engine(a), registry.engine(b)

    with registry.passing(a) as engine:
        assert engine is engine_a
    with registry.passing(other) as engine:
        assert engine not in (engine_a, engine_b) and isinstance(engine.pool, NullPool)
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1  # a tenant engine all the same
    assert list(registry._engines) == [a, b]  # nothing added, a not moved up
    registry.engine(other)
    assert list(registry._engines) == [b, other]  # so a, least recently used, went first
