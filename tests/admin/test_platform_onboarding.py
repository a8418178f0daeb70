"""Customer onboarding in the super-admin portal: the partner API's validation (CustomerData)
beside the fields, duplicates and plan limits refused with nothing created, then API credentials
of role customer shown once (on the page the POST redirects to), which obtain a token at
/auth/token."""
from __future__ import annotations

import pytest

from tests.support.platform_admin import code_text, field_error, flashes, portal  # noqa: F401


def customer_count(tenant_db, slug: str) -> int:
    from sqlalchemy import func, select

    from core.customers.models import Customer

    with tenant_db(slug) as session:
        return session.scalar(select(func.count()).select_from(Customer))


def customer_clients(app, customer_id: str) -> list[str]:
    """The ids of the customer's API clients, oldest first."""
    from sqlalchemy import select

    from core.auth.models import ApiClient
    from core.extensions import db

    with app.app_context():
        return list(db.session.scalars(select(ApiClient.id).filter_by(customer_id=customer_id)
                                       .order_by(ApiClient.created_at)))


def onboard(portal, slug: str, **fields):
    data = {"store": slug, "name": "Acme Industrial", "contact_email": "buyer@acme.example",
            "phone": "+44 20 7946 0958", "address": "1 Works Road", "external_ref": "ACME-1"}
    data.update(fields)
    return portal.post("/admin/onboarding", data)


def test_onboarding_page_offers_only_ready_stores(portal, create_tenant):
    ready = create_tenant(name="Open Store")
    suspended = create_tenant(name="Closed Store")
    assert portal.post(f"/admin/tenants/{suspended}/status", {"status": "Suspended"}).status_code == 303
    page = portal.get("/admin/onboarding").get_data(as_text=True)
    assert f'<option value="{ready}">Open Store ({ready})</option>' in page
    assert suspended not in page
    for label in ("Store", "Company name", "Contact email", "Phone", "Address", "External reference"):
        assert f">{label}</label>" in page


def test_onboarding_creates_the_customer_and_credentials_are_shown_once_and_work(portal, app, create_tenant,
                                                                                 tenant_db):
    slug = create_tenant(plan_code="PREMIUM")
    created = onboard(portal, slug)
    assert created.status_code == 303
    customer_page = portal.get(created.headers["Location"])
    page = customer_page.get_data(as_text=True)
    assert "Acme Industrial is a customer of Test Store." in flashes(page)
    assert "buyer@acme.example" in page and "+442079460958" in page  # stored in E.164
    customer_id = code_text(page, "customer-id")
    assert created.headers["Location"] == f"/admin/onboarding/{slug}/{customer_id}"
    assert customer_count(tenant_db, slug) == 1

    issued = portal.post(f"/admin/onboarding/{slug}/{customer_id}/credentials")
    [client_pk] = customer_clients(app, customer_id)
    assert issued.status_code == 303
    credentials_page = f"/admin/onboarding/{slug}/{customer_id}/credentials/{client_pk}"
    assert issued.headers["Location"] == credentials_page
    answer = portal.get(credentials_page)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    shown = answer.get_data(as_text=True)
    client_id, secret = code_text(shown, "client-id"), code_text(shown, "client-secret")
    assert client_id.startswith("sf_") and len(secret) >= 32
    assert '<button type="button" data-copy="client-secret">Copy client secret</button>' in shown
    assert '<button type="button" data-copy="client-id">Copy client id</button>' in shown
    assert "navigator.clipboard.writeText" in shown

    # Shown once: a refresh of that page issues nothing and says so, and no other page shows it.
    refreshed = portal.get(credentials_page)
    assert refreshed.status_code == 200 and refreshed.headers["Cache-Control"] == "no-store"
    again = refreshed.get_data(as_text=True)
    assert secret not in again and 'id="client-secret"' not in again and code_text(again, "client-id") == client_id
    assert 'id="secret-shown-once">The client secret was shown once' in again
    assert customer_clients(app, customer_id) == [client_pk]
    for path in (created.headers["Location"], f"/admin/onboarding?store={slug}", f"/admin/tenants/{slug}"):
        assert secret not in portal.get(path).get_data(as_text=True)

    token = portal.client.post("/auth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                     "client_secret": secret})
    assert token.status_code == 200, token.get_json()
    bearer = {"Authorization": f"Bearer {token.get_json()['access_token']}", "X-Tenant-Slug": slug}
    assert portal.client.get("/product-provisioner/provisioned-products", headers=bearer).status_code == 200


def test_with_redis_unreachable_the_credentials_are_shown_in_the_posts_answer(app, portal, create_tenant, tmp_path):
    """The secret waits for its page in Redis; without Redis it can only be shown at once."""
    from redis import Redis

    slug = create_tenant()
    customer_id = code_text(portal.get(onboard(portal, slug).headers["Location"]).get_data(as_text=True), "customer-id")
    app.extensions["storefleet.redis"] = Redis.from_url(f"unix://{tmp_path / 'no-redis.sock'}")
    issued = portal.post(f"/admin/onboarding/{slug}/{customer_id}/credentials")
    assert issued.status_code == 201 and issued.headers["Cache-Control"] == "no-store"
    page = issued.get_data(as_text=True)
    assert code_text(page, "client-id").startswith("sf_") and len(code_text(page, "client-secret")) >= 32
    assert len(customer_clients(app, customer_id)) == 1


@pytest.mark.parametrize("fields,field,message", [
    ({"contact_email": "not-an-email"}, "contact_email", "value is not a valid email address"),
    ({"contact_email": ""}, "contact_email", "value is not a valid email address"),
    ({"phone": "020 7946 0958"}, "phone", "Phone must be in international form"),
    ({"phone": "+1 23"}, "phone", "Phone must be in international form"),
    ({"name": "   "}, "name", "String should have at least 1 character"),
    ({"address": "x" * 501}, "address", "String should have at most 500 characters"),
])
def test_invalid_customer_fields_are_shown_beside_them_and_nothing_is_created(portal, create_tenant, tenant_db,
                                                                              fields, field, message):
    slug = create_tenant(plan_code="PREMIUM")
    response = onboard(portal, slug, **fields)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in field_error(page, field)
    assert 'value="Acme Industrial"' in page or field == "name"  # the typed values stay
    assert customer_count(tenant_db, slug) == 0


def test_the_same_message_as_the_partner_api(portal, create_tenant, api_client_headers):
    """The page and POST /api/provisioning/customers refuse a bad phone with the same words."""
    slug = create_tenant(plan_code="PREMIUM")
    api = portal.client.post("/api/provisioning/customers", json={"name": "Acme", "contactEmail": "a@acme.example",
                                                                   "phone": "020 7946 0958"},
                             headers={**api_client_headers(slug, "partner"), "X-Tenant-Slug": slug})
    assert api.status_code == 400
    page = onboard(portal, slug, phone="020 7946 0958").get_data(as_text=True)
    assert api.get_json()["errors"]["phone"] == [field_error(page, "phone")]


def test_a_duplicate_contact_email_is_shown_beside_it(portal, create_tenant, tenant_db):
    slug = create_tenant(plan_code="PREMIUM")
    assert onboard(portal, slug).status_code == 303
    response = onboard(portal, slug, name="Acme Again", contact_email="BUYER@acme.example")
    assert response.status_code == 409
    assert "already exists" in field_error(response.get_data(as_text=True), "contact_email")
    assert customer_count(tenant_db, slug) == 1


def test_the_plans_customer_limit_is_shown_and_nothing_is_created(portal, app, create_tenant, tenant_db):
    slug = create_tenant(plan_code="PREMIUM")
    with app.app_context():
        from core.extensions import db
        from core.tenancy.admin import update_tenant

        update_tenant(slug, limits={"maxCustomers": 1})
        db.session.commit()
    assert onboard(portal, slug).status_code == 303
    response = onboard(portal, slug, contact_email="second@acme.example")
    assert response.status_code == 403
    assert "The plan allows at most 1 (maxCustomers)" in field_error(response.get_data(as_text=True), "store")
    assert customer_count(tenant_db, slug) == 1


def test_a_plan_without_customer_provisioning_is_refused(portal, create_tenant, tenant_db):
    slug = create_tenant(plan_code="BASIC")
    response = onboard(portal, slug)
    assert response.status_code == 403
    assert "'customerProvisioning' feature is not enabled" in field_error(response.get_data(as_text=True), "store")
    assert customer_count(tenant_db, slug) == 0


def test_a_suspended_store_is_refused(portal, create_tenant, tenant_db):
    slug = create_tenant(plan_code="PREMIUM")
    portal.post(f"/admin/tenants/{slug}/status", {"status": "Suspended"})
    response = onboard(portal, slug)
    assert response.status_code == 423
    assert "is suspended" in field_error(response.get_data(as_text=True), "store")
    portal.post(f"/admin/tenants/{slug}/status", {"status": "Ready"})
    assert customer_count(tenant_db, slug) == 0


def test_no_store_chosen_is_shown_beside_the_store_field(portal):
    response = onboard(portal, "")
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "store") == "This field is required."


def test_a_customer_of_another_store_is_not_found(portal, create_tenant):
    first, second = create_tenant(plan_code="PREMIUM"), create_tenant(plan_code="PREMIUM")
    customer_id = onboard(portal, first).headers["Location"].rsplit("/", 1)[1]
    assert portal.get(f"/admin/onboarding/{second}/{customer_id}").status_code == 404
    refused = portal.post(f"/admin/onboarding/{second}/{customer_id}/credentials")
    assert refused.status_code == 404
    assert 'id="client-secret"' not in refused.get_data(as_text=True)


def test_credentials_are_shown_only_under_their_own_store_and_customer(portal, app, create_tenant):
    first, second = create_tenant(plan_code="PREMIUM"), create_tenant(plan_code="PREMIUM")
    customer_id = onboard(portal, first).headers["Location"].rsplit("/", 1)[1]
    other_id = onboard(portal, first, contact_email="other@acme.example").headers["Location"].rsplit("/", 1)[1]
    issued = portal.post(f"/admin/onboarding/{first}/{customer_id}/credentials")
    [client_pk] = customer_clients(app, customer_id)
    for path in (f"/admin/onboarding/{second}/{customer_id}/credentials/{client_pk}",
                 f"/admin/onboarding/{first}/{other_id}/credentials/{client_pk}"):
        refused = portal.get(path)
        assert refused.status_code == 404 and 'id="client-secret"' not in refused.get_data(as_text=True)
    assert 'id="client-secret"' in portal.get(issued.headers["Location"]).get_data(as_text=True)


def test_issuing_credentials_needs_the_csrf_token(portal, app, create_tenant):
    slug = create_tenant(plan_code="PREMIUM")
    customer_id = onboard(portal, slug).headers["Location"].rsplit("/", 1)[1]
    refused = portal.post(f"/admin/onboarding/{slug}/{customer_id}/credentials", csrf=False)
    assert refused.status_code == 400 and "CSRF" in refused.get_data(as_text=True)
    assert customer_clients(app, customer_id) == []


def test_an_inactive_customer_gets_no_credentials(portal, app, create_tenant, tenant_db):
    from sqlalchemy import select

    from core.auth.models import ApiClient
    from core.customers.models import Customer

    slug = create_tenant(plan_code="PREMIUM")
    customer_id = onboard(portal, slug).headers["Location"].rsplit("/", 1)[1]
    with tenant_db(slug) as session:
        session.get(Customer, customer_id).status = "inactive"
    refused = portal.post(f"/admin/onboarding/{slug}/{customer_id}/credentials")
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "This customer is inactive: activate it before issuing its credentials." in page and 'id="client-secret"' not in page
    with app.app_context():
        from core.extensions import db

        assert db.session.scalars(select(ApiClient).filter_by(customer_id=customer_id)).all() == []
