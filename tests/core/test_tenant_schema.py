"""The tenant migration history builds exactly the schema the models declare, on both backends."""
from __future__ import annotations

from tests.support.backends import on_both_backends
from tests.support.schema import schema_drift


@on_both_backends
def test_a_provisioned_store_matches_the_models(shop):
    assert schema_drift(shop().db_url) == []
