"""Fixtures of the domain tests that live outside the root conftest."""
from tests.support.shop import pg_shop, shop  # noqa: F401  (fixtures: a store to shop in)
