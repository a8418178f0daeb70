"""Fixtures of the PostgreSQL tests that live outside the root conftest."""
from tests.support.shop import pg_shop  # noqa: F401  (fixture: a store on PostgreSQL)
