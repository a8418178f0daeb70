"""The super-admin portal's tenants: the list, provisioning with live progress (the API's RQ job),
repair, suspend and resume, plan, feature and limit overrides, store admins."""
from __future__ import annotations

import pytest
from rq import Queue

from tests.admin.conftest import STORE_ADMIN_PASSWORD
from tests.support.html import csrf_token
from tests.support.platform_admin import field_error, flashes, form_errors, open_portal, portal  # noqa: F401


def tenant_row(app, slug: str):
    """(status, step statuses) of the tenant's row, or None when there is no row."""
    from core.extensions import db
    from core.tenancy.models import ProvisioningStep, Tenant

    with app.app_context():
        tenant = db.session.scalar(db.select(Tenant).filter_by(slug=slug))
        if tenant is None:
            assert db.session.scalar(db.select(db.func.count()).select_from(ProvisioningStep)
                                     .join(Tenant, isouter=True).where(Tenant.id.is_(None))) == 0
            return None
        return tenant.status, [s.status for s in tenant.steps]


def fragment(portal, slug: str) -> str:
    response = portal.get(f"/admin/tenants/{slug}", headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def provision(portal, slug: str, name: str = "Portal Store", plan: str = "PREMIUM"):
    return portal.post("/admin/tenants", {"slug": slug, "name": name, "plan": plan})


# --- the list --------------------------------------------------------------------------------------

def test_tenants_page_shows_status_plan_created_date_and_database(portal, create_tenant):
    slug = create_tenant(name="Listed Store", plan_code="BASIC")
    page = portal.get("/admin/tenants").get_data(as_text=True)
    row = page[page.index("Listed Store"):]
    row = row[:row.index("</tr>")]
    assert slug in row and "Ready" in row and "Basic" in row
    assert f"ecom_tenant_{slug.replace('-', '_')}" in row
    assert '<th scope="col">Created</th>' in page and '<th scope="col">Database</th>' in page
    assert '<label for="slug">Slug</label>' in page and "Provision tenant</button>" in page


# --- provisioning through the portal --------------------------------------------------------------

@pytest.mark.parametrize("slug,message", [
    ("ab", "between 3 and 63 characters"),
    ("My-Store", "lowercase alphanumeric"),
    ("my--store", "lowercase alphanumeric"),
    ("admin", "'admin' is reserved."),
    ("www", "'www' is reserved."),
    ("", "This field is required."),
])
def test_provision_form_shows_a_bad_or_reserved_slug_beside_the_field(portal, app, redis_conn, slug, message):
    response = provision(portal, slug)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in field_error(page, "slug")
    assert f'value="{slug}"' in page or not slug  # what was typed is kept
    assert Queue("provisioning", connection=redis_conn).count == 0
    assert tenant_row(app, slug) is None


def test_provision_form_shows_a_taken_slug_beside_the_field(portal, app, create_tenant, redis_conn):
    slug = create_tenant()
    response = provision(portal, slug)
    assert response.status_code == 409
    assert "already exists" in field_error(response.get_data(as_text=True), "slug")
    assert Queue("provisioning", connection=redis_conn).count == 0


def test_provision_form_requires_a_name_and_a_known_plan(portal, app, redis_conn):
    response = portal.post("/admin/tenants", {"slug": "nameless", "name": " ", "plan": "GOLD"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert field_error(page, "name")
    assert tenant_row(app, "nameless") is None
    unknown_plan = provision(portal, "gold-store", plan="GOLD")
    assert unknown_plan.status_code == 400
    assert "Plan must be one of: BASIC, ENTERPRISE, PREMIUM." in field_error(unknown_plan.get_data(as_text=True), "plan")
    assert tenant_row(app, "gold-store") is None


def test_provision_queues_the_apis_job_and_the_page_polls_its_progress(portal, app, redis_conn):
    response = provision(portal, "queued-store")
    assert response.status_code == 303 and response.headers["Location"] == "/admin/tenants/queued-store"
    jobs = Queue("provisioning", connection=redis_conn).jobs
    assert [job.func_name for job in jobs] == ["jobs.provisioning.provision_tenant_job"]
    assert tenant_row(app, "queued-store") == ("Queued", ["Pending", "Pending", "Pending"])

    page = portal.get("/admin/tenants/queued-store").get_data(as_text=True)
    assert "<h1>Portal Store</h1>" in page and 'id="tenant-progress"' in page
    polled = fragment(portal, "queued-store")
    assert polled.lstrip().startswith('<section id="tenant-progress"')  # the fragment alone, no layout
    assert "<html" not in polled
    assert 'hx-get="/admin/tenants/queued-store" hx-trigger="every 1s"' in polled
    assert 'hx-swap="outerHTML"' in polled and 'data-status="Queued"' in polled
    assert "waiting for a worker of the provisioning queue" in polled


def test_progress_fragment_shows_the_running_step_then_ready_and_stops_polling(portal, app, redis_conn, run_jobs):
    assert provision(portal, "watched-store").status_code == 303
    with app.app_context():
        from core.extensions import db
        from core.tenancy.admin import get_tenant
        from core.columns import utcnow

        tenant = get_tenant("watched-store")
        tenant.status, tenant.steps[0].status, tenant.steps[0].started_at = "Provisioning", "InProgress", utcnow()
        db.session.commit()
    running = fragment(portal, "watched-store")
    assert 'data-status="Provisioning"' in running and 'hx-trigger="every 1s"' in running
    assert '<span class="badge InProgress">InProgress</span>' in running

    run_jobs()
    done = fragment(portal, "watched-store")
    assert 'data-status="Ready"' in done
    assert "hx-trigger" not in done and "hx-get" not in done  # polling stops
    assert done.count('<span class="badge Success">Success</span>') == 3
    assert "Demo data seeded successfully" in done
    assert "Suspend store</button>" in done


@pytest.fixture
def blocked_app(make_app, tmp_path):
    """An app whose tenant databases cannot be created (their folder is a file) until unblocked."""
    blocker = tmp_path / "blocked"
    blocker.write_text("not a directory")
    app = make_app(TENANT_DATABASE_URL=f"sqlite:///{blocker}/{{db_name}}.db")
    app.config["TEST_BLOCKER"] = blocker
    return app


def test_failed_step_shows_its_error_and_repair_brings_the_tenant_ready(blocked_app, redis_conn, run_jobs):
    portal = open_portal(blocked_app)
    assert provision(portal, "doomed-store").status_code == 303
    run_jobs(blocked_app)
    failed = fragment(portal, "doomed-store")
    assert 'data-status="Failed"' in failed and "hx-trigger" not in failed
    assert '<span class="badge Failed">Failed</span>' in failed
    assert 'class="field-error step-error">FileExistsError: [Errno 17] File exists' in failed  # its errorMessage
    assert "Repair</button>" in failed

    still_failing = portal.post("/admin/tenants/doomed-store/repair")
    assert still_failing.status_code == 303
    page = portal.get("/admin/tenants/doomed-store").get_data(as_text=True)
    assert any(message.startswith("Repair failed: Step CreateDatabase failed") for message in flashes(page))
    assert tenant_row(blocked_app, "doomed-store")[0] == "Failed"

    blocked_app.config["TEST_BLOCKER"].unlink()
    repaired = portal.post("/admin/tenants/doomed-store/repair")
    assert repaired.status_code == 303
    page = portal.get("/admin/tenants/doomed-store").get_data(as_text=True)
    assert "Repair finished: doomed-store is Ready." in flashes(page)
    assert tenant_row(blocked_app, "doomed-store") == ("Ready", ["Success", "Success", "Success"])
    assert portal.client.get("/public/tenant-config", headers={"X-Tenant-Slug": "doomed-store"}).status_code == 200


def test_provision_with_redis_unreachable_shows_an_error_and_leaves_nothing(make_app, tmp_path):
    app = make_app(REDIS_URL=f"unix://{tmp_path / 'nothing-listens-here.sock'}")
    portal = open_portal(app)
    response = provision(portal, "no-queue-store")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "The provisioning queue (Redis) is unreachable, so the store was not created." in form_errors(page)
    assert 'value="no-queue-store"' in page  # the form is kept to try again
    assert "Traceback" not in page
    assert tenant_row(app, "no-queue-store") is None
    assert "no-queue-store" not in portal.get("/admin/tenants").get_data(as_text=True)


def test_unknown_tenant_page_is_a_404_page(portal):
    response = portal.get("/admin/tenants/no-such-store")
    assert response.status_code == 404 and "text/html" in response.content_type


# --- suspend, resume, plan, overrides --------------------------------------------------------------

def test_suspend_then_resume_is_what_the_stores_api_answers(portal, create_tenant):
    slug = create_tenant()
    config = lambda: portal.client.get("/public/tenant-config", headers={"X-Tenant-Slug": slug})  # noqa: E731
    assert config().status_code == 200

    assert portal.post(f"/admin/tenants/{slug}/status", {"status": "Suspended"}).status_code == 303
    assert config().status_code == 423
    page = portal.get(f"/admin/tenants/{slug}").get_data(as_text=True)
    assert "Test Store is suspended." in flashes(page)
    assert '<span class="badge Suspended">Suspended</span>' in page and "Resume store</button>" in page

    assert portal.post(f"/admin/tenants/{slug}/status", {"status": "Ready"}).status_code == 303
    assert config().status_code == 200


def test_a_failed_tenant_cannot_be_suspended(blocked_app, redis_conn, run_jobs):
    portal = open_portal(blocked_app)
    provision(portal, "broken-store")
    run_jobs(blocked_app)
    assert portal.post("/admin/tenants/broken-store/status", {"status": "Suspended"}).status_code == 303
    page = portal.get("/admin/tenants/broken-store").get_data(as_text=True)
    assert "Tenant is Failed; only a Ready or Suspended tenant can change status (use repair)." in flashes(page)
    assert tenant_row(blocked_app, "broken-store")[0] == "Failed"


def test_unknown_status_is_refused(portal, create_tenant):
    slug = create_tenant()
    assert portal.post(f"/admin/tenants/{slug}/status", {"status": "Deleted"}).status_code == 400
    assert portal.client.get("/public/tenant-config", headers={"X-Tenant-Slug": slug}).status_code == 200
    assert tenant_row(portal.app, slug) == ("Ready", ["Success", "Success", "Success"])


def features_of(portal, slug: str) -> dict:
    response = portal.client.get("/api/features", headers={"X-Tenant-Slug": slug})
    assert response.status_code == 200
    return response.get_json()


def test_plan_change_is_reflected_in_the_features_api(portal, create_tenant):
    slug = create_tenant(plan_code="PREMIUM")
    assert features_of(portal, slug)["features"]["customerProvisioning"] is True
    response = portal.post(f"/admin/tenants/{slug}/plan", {"plan_code": "BASIC"})
    assert response.status_code == 303
    flags = features_of(portal, slug)
    assert flags["features"]["customerProvisioning"] is False and flags["limits"]["maxCartItems"] == 20
    assert "Test Store is on the Basic plan." in flashes(portal.get(f"/admin/tenants/{slug}").get_data(as_text=True))


def test_unknown_plan_is_shown_beside_the_plan_field(portal, create_tenant):
    slug = create_tenant(plan_code="PREMIUM")
    response = portal.post(f"/admin/tenants/{slug}/plan", {"plan_code": "GOLD"})
    assert response.status_code == 404
    assert "Plan 'GOLD' not found." in field_error(response.get_data(as_text=True), "plan_code")
    assert features_of(portal, slug)["limits"]["maxCartItems"] == 100


def overrides(features: dict | None = None, limits: dict | None = None) -> dict:
    """The overrides form as a browser posts it: every feature and limit, the plan's by default."""
    from core.tenancy.features import Feature, Limit

    data = {f"feature_{name}": (features or {}).get(name, "plan") for name in Feature}
    data.update({f"limit_{name}": str((limits or {}).get(name, "")) for name in Limit})
    return data


def test_overrides_are_reflected_in_the_features_api_and_can_go_back_to_the_plan(portal, create_tenant):
    slug = create_tenant(plan_code="PREMIUM")
    changed = portal.post(f"/admin/tenants/{slug}/overrides",
                          overrides({"push": "on", "cart": "off"}, {"maxCartItems": 7, "maxCustomers": 0}))
    assert changed.status_code == 303
    flags = features_of(portal, slug)
    assert flags["features"]["push"] is True and flags["features"]["cart"] is False
    assert flags["limits"]["maxCartItems"] == 7 and flags["limits"]["maxCustomers"] == 0
    assert flags["features"]["checkout"] is True and flags["limits"]["maxProducts"] == 10000  # untouched

    page = portal.get(f"/admin/tenants/{slug}").get_data(as_text=True)
    push_row = page[page.index('<label for="feature_push">'):]
    push_row = push_row[:push_row.index("</tr>")]
    assert 'data-label="Premium plan">off</td>' in push_row  # the plan's value, beside the override
    assert '<option selected value="on">On</option>' in push_row and "override" in push_row
    limit_row = page[page.index('<label for="limit_maxCartItems">'):]
    limit_row = limit_row[:limit_row.index("</tr>")]
    assert 'data-label="Premium plan">100</td>' in limit_row and 'value="7"' in limit_row

    back = portal.post(f"/admin/tenants/{slug}/overrides", overrides())
    assert back.status_code == 303
    flags = features_of(portal, slug)
    assert flags["features"]["push"] is False and flags["features"]["cart"] is True
    assert flags["limits"]["maxCartItems"] == 100 and flags["limits"]["maxCustomers"] == 1000
    with portal.app.app_context():
        from core.tenancy.admin import get_tenant

        tenant = get_tenant(slug)
        assert tenant.feature_overrides == {} and tenant.limit_overrides == {}


@pytest.mark.parametrize("value,message", [("-1", "Number must be between 0 and"),
                                           ("lots", "Not a valid integer value.")])
def test_a_bad_limit_is_shown_beside_it_and_nothing_changes(portal, create_tenant, value, message):
    slug = create_tenant(plan_code="PREMIUM")
    response = portal.post(f"/admin/tenants/{slug}/overrides",
                           overrides({"push": "on"}, {"maxCartItems": value}))
    assert response.status_code == 400
    assert message in field_error(response.get_data(as_text=True), "limit_maxCartItems")
    flags = features_of(portal, slug)
    assert flags["features"]["push"] is False and flags["limits"]["maxCartItems"] == 100


# --- store admins ------------------------------------------------------------------------------------

def test_added_store_admin_signs_in_at_the_stores_admin(portal, app, create_tenant, store_host):
    slug = create_tenant()
    response = portal.post(f"/admin/tenants/{slug}/admins",
                           {"admin_email": "Manager@Example.com", "admin_password": STORE_ADMIN_PASSWORD})
    assert response.status_code == 303
    page = portal.get(f"/admin/tenants/{slug}").get_data(as_text=True)
    assert "manager@example.com can now sign in to the store's admin." in flashes(page)
    assert "<li>manager@example.com</li>" in page

    shopper = app.test_client()
    base = f"http://{store_host(slug)}"
    login = shopper.get("/admin/login", base_url=base).get_data(as_text=True)
    signed_in = shopper.post("/admin/login", base_url=base, data={
        "csrf_token": csrf_token(login), "email": "manager@example.com", "password": STORE_ADMIN_PASSWORD})
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/admin/dashboard"
    assert shopper.get("/admin/dashboard", base_url=base).status_code == 200


@pytest.mark.parametrize("email,password,field,message,status", [
    ("not-an-email", "long-enough-pw", "admin_email", "Invalid email address.", 400),
    ("short@example.com", "short", "admin_password", "at least 8", 400),
    ("root@example.com", "long-enough-pw", "admin_email", "already exists", 409),
])
def test_store_admin_errors_are_shown_beside_the_fields(portal, app, create_tenant, email, password, field,
                                                        message, status):
    slug = create_tenant()
    response = portal.post(f"/admin/tenants/{slug}/admins", {"admin_email": email, "admin_password": password})
    assert response.status_code == status
    assert message in field_error(response.get_data(as_text=True), field)
    with app.app_context():
        from core.tenancy.admin import get_tenant, store_admins

        assert store_admins(get_tenant(slug)) == []
