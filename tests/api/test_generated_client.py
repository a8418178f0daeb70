"""A client generated from the live /api/openapi.json, as an integrator would (README: "Generate
a client"), compiles and runs the main journeys against the real server (gunicorn on
PostgreSQL, an RQ worker) as generated: a guest checkout, a customer's purchase to COMPLETED,
and a customer created and deleted. No hand-written request, no fix to the generated code."""
from __future__ import annotations

import compileall
import importlib
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD
from tests.support.processes import VENV_BIN, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PACKAGE = "storefleet_client"


def generate_client(spec_url: str, folder: Path) -> str:
    """Generate the client package from the document at `spec_url` into `folder` (README's command);
    returns what the generator printed."""
    spec = folder / "openapi.json"
    spec.write_bytes(httpx.get(spec_url, timeout=30).raise_for_status().content)
    generated = subprocess.run(
        [str(VENV_BIN / "openapi-python-client"), "generate", "--path", str(spec), "--meta", "none",
         "--output-path", str(folder / PACKAGE)],
        # Its post-generation step formats the code with ruff, found on PATH.
        env={**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True, text=True, timeout=120)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    return generated.stdout + generated.stderr


@pytest.fixture
def generated(tmp_path):
    """Factory: the generated package, imported from `tmp_path`; unimported afterwards."""
    sys.path.insert(0, str(tmp_path))

    def factory(spec_url: str):
        printed = generate_client(spec_url, tmp_path)
        assert "warning" not in printed.lower() and "error" not in printed.lower(), printed
        assert compileall.compile_dir(tmp_path / PACKAGE, quiet=1)
        return importlib.import_module(PACKAGE)

    yield factory
    sys.path.remove(str(tmp_path))
    for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def test_a_generated_client_runs_checkout_purchase_and_customers(pg_app, live_server, rq_worker, generated):
    server = live_server(pg_app, workers=2)
    rq_worker(pg_app, "purchases")
    sf = generated(f"{server.url}/api/openapi.json")
    from storefleet_client.api.auth import auth_token_auth_token_post as token
    from storefleet_client.api.cart import cart_add_item_items_post as add_to_cart
    from storefleet_client.api.catalog import catalog_list_products_products_get as list_products
    from storefleet_client.api.checkout import checkout_place_order_place_order_post as place_order
    from storefleet_client.api.checkout import checkout_quote_quote_post as quote
    from storefleet_client.api.customer_provisioning import customers_create_customer_post as create_customer
    from storefleet_client.api.customer_provisioning import customers_delete_customer_customer_id_delete as delete
    from storefleet_client.api.customer_provisioning import customers_get_customer_customer_id_get as get_customer
    from storefleet_client.api.purchase_gateway import purchase_gateway_initiate_purchases_post as purchase
    from storefleet_client.api.purchase_gateway import \
        purchase_gateway_purchase_status_purchases_purchase_id_get as purchase_status
    from storefleet_client.api.super_admin import superadmin_create_api_client_tenants_slug_api_clients_post as issue
    from storefleet_client.api.super_admin import superadmin_create_tenant_tenants_post as create_tenant
    from storefleet_client import models

    anonymous = sf.Client(base_url=server.url, raise_on_unexpected_status=True)

    def signed_in(answer) -> object:
        assert isinstance(answer, models.TokenResponse), answer
        return sf.AuthenticatedClient(base_url=server.url, token=answer.access_token,
                                      raise_on_unexpected_status=True)

    # A super admin signs in (password grant, JSON) and creates a store.
    admin = signed_in(token.sync(client=anonymous, body=models.AuthTokenAuthTokenPostJsonPasswordGrant(
        grant_type="password", username=SUPERADMIN_EMAIL, password=SUPERADMIN_PASSWORD)))
    slug = f"gen-{uuid.uuid4().hex[:8]}"
    store = create_tenant.sync(client=admin, body=models.CreateTenantRequest(slug=slug, name="Generated",
                                                                             plan_code="PREMIUM"))
    assert isinstance(store, models.CreateTenantResponse) and store.status == "Ready", store

    def client_of(role: str, customer_id: str | None = None):
        """API credentials of `role`, exchanged for a token (client-credentials grant, as a form)."""
        credentials = issue.sync(slug, client=admin, body=models.CreateApiClientRequest(
            name=role, role=models.CreateApiClientRequestRole(role),
            customer_id=customer_id if customer_id else sf.types.UNSET))
        assert isinstance(credentials, models.ApiClientCredentials), credentials
        return signed_in(token.sync(client=anonymous, body=models.AuthTokenAuthTokenPostDataClientCredentialsGrant(
            grant_type="client_credentials", client_id=credentials.client_id,
            client_secret=credentials.client_secret)))

    # A guest buys the first product of the catalog.
    page = list_products.sync(client=anonymous, x_tenant_slug=slug, page_size=5)
    assert isinstance(page, models.ProductListResponse) and page.total_count > 0, page
    product = page.items[0]
    session = str(uuid.uuid4())
    cart = add_to_cart.sync(client=anonymous, x_tenant_slug=slug, x_session_id=session,
                            body=models.AddToCartRequest(product_id=product.id, quantity=2))
    assert isinstance(cart, models.CartDto) and cart.item_count == 2, cart
    priced = quote.sync(client=anonymous, x_tenant_slug=slug, x_session_id=session,
                        body=models.CheckoutQuoteQuotePostBody())
    assert isinstance(priced, models.CheckoutQuoteResponse), priced
    key = str(uuid.uuid4())
    order = place_order.sync(client=anonymous, x_tenant_slug=slug, x_session_id=session, idempotency_key=key,
                             body=models.PlaceOrderRequest(
                                 idempotency_key=key, email="guest@example.com", phone="+44 20 7946 0958",
                                 shipping_address="1 High St, London",
                                 payment_method=models.PlaceOrderRequestPaymentmethod.CREDITCARD))
    assert isinstance(order, models.PlaceOrderResponse), order
    assert order.status == "PENDING" and order.total == priced.total

    # A partner creates a customer, which makes a purchase that the worker completes.
    partner = client_of("partner")
    customer = create_customer.sync(client=partner, x_tenant_slug=slug, body=models.CustomerData(
        name="Acme Corp", contact_email="buyer@acme.example.com", phone="+1 415 555 0100"))
    assert isinstance(customer, models.CustomerDto) and customer.phone == "+14155550100", customer
    buyer = client_of("customer", customer.id)
    started = purchase.sync(client=buyer, x_tenant_slug=slug, body=models.PurchaseRequest(
        products=[models.PurchaseLine(id="PROD001", quantity=1)]))
    assert isinstance(started, models.PurchaseAnswer) and started.status == "PENDING", started

    def completed():
        answer = purchase_status.sync(started.purchase_id, client=buyer, x_tenant_slug=slug)
        assert isinstance(answer, models.PurchaseStatusAnswer), answer
        return answer if answer.status == "COMPLETED" else None

    assert wait_until(completed, timeout=60, message="the purchase to complete").order_id

    # The partner deletes the customer: it is gone.
    assert delete.sync_detailed(customer.id, client=partner, x_tenant_slug=slug).status_code == 204
    gone = get_customer.sync_detailed(customer.id, client=partner, x_tenant_slug=slug)
    assert gone.status_code == 404 and isinstance(gone.parsed, models.Problem)
