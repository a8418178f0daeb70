"""The tenant migration history builds exactly the schema the models declare."""
from __future__ import annotations

from tests.support.schema import schema_drift


def test_a_provisioned_sqlite_store_matches_the_models(shop):
    assert schema_drift(shop().db_url) == []
