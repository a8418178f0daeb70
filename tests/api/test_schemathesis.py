"""Schemathesis against the real server (gunicorn on PostgreSQL) on /api/openapi.json, as an
integrator's fuzzer would run it: every phase (the document's examples, coverage of each schema's
edges, random valid and invalid data, stateful sequences following the responses' links) and
every check it has, once anonymously and once with a token of each role. It must find nothing.

The run is bounded and repeatable: a fixed seed and a few examples per operation. The one thing
the document states in words and a schema cannot is told to the run here, with its reason:
three operations answer 400 to a body the schema allows, because of what the store holds, as the
contract prescribes: quote and place-order for an empty cart (the seed's section 5; the fuzzer's
shopper session holds no cart), and product provisioning for a product whose required
customization option is not chosen (the options are the product's, set in the store admin).
"""
from __future__ import annotations

import pytest
import schemathesis
from schemathesis.engine import events, from_schema

from tests.support.b2b import b2b_store

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROLES = ("anonymous", "superadmin", "store_admin", "partner", "customer", "service")
SEED = 20261207
EXAMPLES_PER_OPERATION = 10
# The operations whose 400 may answer a body the schema allows (see the module's doc).
STATE_DEPENDENT_400 = ("/api/checkout/quote", "/api/checkout/place-order", "/product-provisioner/products")
ACCEPTED_WITH_400 = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]


def run_schemathesis(url: str, headers: dict, slug: str) -> tuple[list[str], list[str]]:
    """Run every phase and check against `url`; returns (failed checks, engine errors), each a
    line saying what, where, and how to reproduce it."""
    config = schemathesis.Config.from_dict({
        "seed": SEED,
        "generation": {"max-examples": EXAMPLES_PER_OPERATION},
        "checks": {"enabled": True},
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True},
                   "stateful": {"enabled": True}},
        "headers": headers,
        "parameters": {"X-Tenant-Slug": slug},
        "operations": [{"include-path": path, "checks": {"positive_data_acceptance": {
            "expected-statuses": ACCEPTED_WITH_400}}} for path in STATE_DEPENDENT_400],
    })
    schema = schemathesis.openapi.from_url(f"{url}/api/openapi.json", config=config)
    failures: set[str] = set()
    errors: list[str] = []
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.failure_info is not None:
                        failure = check.failure_info.failure
                        interaction = event.recorder.interactions.get(case_id)
                        answer = interaction.response if interaction is not None else None
                        said = (answer.status_code, (answer.content or b"")[:300]) if answer is not None else None
                        failures.add(f"{failure.code} {failure.operation}: {failure.title}; answered {said}\n"
                                     f"{check.failure_info.code_sample[-1500:]}")
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            errors.append(f"{getattr(event, 'label', '')}: {getattr(event, 'value', None) or event.exception!r}")
    return sorted(failures), errors


@pytest.mark.parametrize("role", ROLES)
def test_schemathesis_finds_nothing(role, pg_app, live_server):
    store = b2b_store(pg_app.test_client())
    # A limit the run never reaches, so that its requests reach the operations, not 429.
    configured = pg_app.test_client().patch(f"/superadmin/tenants/{store.slug}", headers=store.admin,
                                            json={"limits": {"apiRequestsPerMinute": 1_000_000}})
    assert configured.status_code == 200
    tokens = {"anonymous": {}, "superadmin": store.admin, "partner": store.partner, "customer": store.customer}
    headers = tokens[role] if role in tokens else store.headers_for(role)
    server = live_server(pg_app, workers=2)
    failures, errors = run_schemathesis(server.url, {"Authorization": headers["Authorization"]} if headers else {},
                                        store.slug)
    assert errors == []
    assert failures == [], "\n\n".join(failures)
