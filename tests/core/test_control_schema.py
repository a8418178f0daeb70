"""The control migration history builds exactly the schema the control models declare (plans,
tenants, provisioning steps, users, API clients), on both backends."""
from __future__ import annotations

from core.extensions import ControlBase, db
from tests.support.backends import on_both_backends
from tests.support.schema import control_schema_drift


def test_the_control_models_are_the_control_tables():
    assert db.metadata is ControlBase.metadata
    assert set(ControlBase.metadata.tables) == {"plans", "tenants", "provisioning_steps", "users", "api_clients"}


@on_both_backends
def test_a_migrated_control_database_matches_the_models(app):
    assert control_schema_drift(app.config["SQLALCHEMY_DATABASE_URI"], app.config["CONTROL_MIGRATIONS"]) == []
