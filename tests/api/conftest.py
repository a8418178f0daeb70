"""Fixtures of the API tests that live outside the root conftest."""
from tests.support.shop import shop  # noqa: F401  (fixture: a store to shop in, on the backend of `app`)
