"""The cart pages: adding from the product page, changing and removing lines, the header's cart
count, the guest cookie and CSRF — with and without htmx."""
from __future__ import annotations

import re
import uuid

import pytest

from core.cart.models import Cart, CartItem
from tests.storefront.conftest import text_of


def _count_badge(html: str) -> str:
    return re.search(r'<span id="cart-count" class="cart-count"[^>]*>(\d+)<', html).group(1)


def test_add_to_cart_without_javascript_redirects_to_the_product_with_a_confirmation(shop, shopper):
    store = shop()
    s = shopper(store.slug)
    product = store.product_id("PROD001")
    response = s.post("/cart/items", {"product_id": product, "quantity": "2"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/products/{product}"
    page = text_of(s.get(response.headers["Location"]))
    assert "Added 2 × Wireless Headphones to your cart." in page
    assert _count_badge(page) == "2"
    cart = text_of(s.get("/cart"))
    assert "Wireless Headphones" in cart and 'value="2"' in cart
    assert '<strong id="cart-subtotal">$143.98</strong>' in cart


def test_add_to_cart_with_htmx_answers_the_form_and_the_cart_count_out_of_band(shop, shopper):
    store = shop()
    s = shopper(store.slug)
    s.add(store.product_id("PROD002"), 1)
    response = s.post("/cart/items", {"product_id": store.product_id("PROD001"), "quantity": "3"},
                      htmx_target="add-to-cart")
    assert response.status_code == 200
    html = text_of(response)
    assert "<html" not in html
    assert html.lstrip().startswith('<form id="add-to-cart"')
    assert 'role="status">Added 3 × Wireless Headphones to your cart.' in html
    assert re.search(r'<span id="cart-count" class="cart-count" hx-swap-oob="true">4<', html)
    assert 'value="1"' in html  # the form is ready for the next add


@pytest.mark.parametrize("quantity, message", [
    ("0", "Quantity must be a whole number of at least 1."),
    ("-3", "Quantity must be a whole number of at least 1."),
    ("abc", "Not a valid integer value."),
    ("1.5", "Not a valid integer value."),
    ("", "Enter a quantity."),
    ("99999999999", "Quantity must be a whole number of at least 1."),
])
@pytest.mark.parametrize("htmx", [False, True])
def test_bad_quantity_is_explained_beside_the_field_and_changes_nothing(shop, shopper, quantity, message, htmx):
    store = shop()
    s = shopper(store.slug)
    response = s.post("/cart/items", {"product_id": store.product_id("PROD001"), "quantity": quantity},
                      htmx_target="add-to-cart" if htmx else None)
    assert response.status_code == 400
    html = text_of(response)
    assert f'<p id="quantity-error" class="field-error">{message}' in html
    assert ("<html" in html) is not htmx
    assert store.count(CartItem) == 0
    assert s.cookie() is None


@pytest.mark.parametrize("htmx", [False, True])
def test_more_than_the_stock_is_refused_inline_with_the_reason(shop, shopper, htmx):
    store = shop()
    store.set_stock("PROD003", 2)
    s = shopper(store.slug)
    response = s.post("/cart/items", {"product_id": store.product_id("PROD003"), "quantity": "3"},
                      htmx_target="add-to-cart" if htmx else None)
    assert response.status_code == 409
    assert '<p id="quantity-error" class="field-error">Only 2 of Bluetooth Speaker in stock; 3 requested.</p>' \
        in text_of(response)
    assert store.count(CartItem) == 0


def test_out_of_stock_product_has_no_add_button(shop, shopper):
    store = shop()
    store.set_stock("PROD004", 0)
    html = text_of(shopper(store.slug).get(f"/products/{store.product_id('PROD004')}"))
    assert "This product is out of stock." in html and ">Add to cart</button>" not in html
    assert "Out of stock" in html


def test_adding_a_missing_product_is_404(shop, shopper):
    store = shop()
    store.set_product("PROD005", is_active=False)
    s = shopper(store.slug)
    assert s.post("/cart/items", {"product_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "quantity": "1"}).status_code == 404
    assert s.post("/cart/items", {"quantity": "1"}).status_code == 404
    assert s.post("/cart/items", {"product_id": store.product_id("PROD005"), "quantity": "1"}).status_code == 404
    assert store.count(CartItem) == 0


@pytest.mark.parametrize("path", ["/cart/items", "/cart/items/x", "/cart/items/x/remove", "/checkout"])
def test_a_form_without_the_csrf_token_is_refused(shop, shopper, path):
    store = shop()
    s = shopper(store.slug)
    response = s.post(path, {"product_id": store.product_id("PROD001"), "quantity": "1"}, csrf=False)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "The CSRF token is missing." in text_of(response)
    assert store.count(CartItem) == 0


def test_a_wrong_csrf_token_is_refused_and_the_htmx_header_token_is_accepted(shop, shopper):
    store = shop()
    s = shopper(store.slug)
    s.get("/")
    data = {"product_id": store.product_id("PROD001"), "quantity": "1"}
    assert s.post("/cart/items", {**data, "csrf_token": "forged"}).status_code == 400
    assert s.post("/cart/items", data, csrf=False, htmx_target="add-to-cart",
                  headers={"X-CSRFToken": s.csrf}).status_code == 200
    assert store.count(CartItem) == 1


def test_guest_cookie_is_httponly_samesite_lax_and_not_secure_over_plain_http(shop, shopper):
    store = shop()
    s = shopper(store.slug)
    response = s.add(store.product_id("PROD001"))
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("shop_session="))
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header
    assert "Secure" not in header
    with store.db() as session:
        assert session.query(Cart).one().session_id == s.cookie().value
    # the next request reuses the cookie: no new one, the same cart
    again = s.add(store.product_id("PROD002"))
    assert not any(h.startswith("shop_session=") for h in again.headers.getlist("Set-Cookie"))
    assert store.count(Cart) == 1


def test_guest_cookie_is_secure_over_https(shop, shopper):
    store = shop()
    s = shopper(store.slug, scheme="https")
    response = s.add(store.product_id("PROD001"))
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("shop_session="))
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header


def test_session_cookie_secure_setting_makes_the_cookie_secure_over_http(make_app):
    from tests.storefront.conftest import Shopper
    from tests.support.shop import Shop

    app = make_app(SESSION_COOKIE_SECURE=True)
    with app.app_context():
        from core.tenancy.provisioning import create_tenant_directly

        slug = create_tenant_directly("secure-shop", "Secure Shop", "PREMIUM").slug
    s = Shopper(app, slug)
    product = Shop(app, app.test_client(), slug, {}).product_id("PROD001")
    response = s.add(product)
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("shop_session="))
    assert "Secure" in header


def test_a_tampered_cookie_starts_a_new_guest(shop, shopper):
    store = shop()
    s = shopper(store.slug)
    s.client.set_cookie("shop_session", "not-a-uuid", domain=f"{store.slug}.localhost")
    assert "Your cart is empty." in text_of(s.get("/cart"))
    s.add(store.product_id("PROD001"))
    assert s.cookie().value != "not-a-uuid"


def _line_id(html: str, name: str) -> str:
    return re.search(rf'<li id="line-([0-9a-f-]+)" class="cart-line[^"]*">\s*<img[^>]*>\s*<div class="line-name">\s*'
                     rf'<a href="[^"]+">{name}</a>', html).group(1)


def test_changing_a_quantity_without_javascript(shop, shopper):
    store = shop()
    s = shopper(store.slug)
    s.add(store.product_id("PROD002"), 1)
    line = _line_id(text_of(s.get("/cart")), "USB-C Charger")
    response = s.post(f"/cart/items/{line}", {"quantity": "4"})
    assert response.status_code == 303 and response.headers["Location"] == "/cart"
    html = text_of(s.get("/cart"))
    assert '<strong id="cart-subtotal">$119.96</strong>' in html and _count_badge(html) == "4"


def test_changing_a_quantity_with_htmx_updates_line_subtotal_and_count(shop, shopper):
    store = shop()
    s = shopper(store.slug)
    s.add(store.product_id("PROD002"), 1)
    s.add(store.product_id("PROD001"), 1)
    line = _line_id(text_of(s.get("/cart")), "USB-C Charger")
    response = s.post(f"/cart/items/{line}", {"quantity": "3"}, htmx_target="cart")
    assert response.status_code == 200
    html = text_of(response)
    assert html.lstrip().startswith('<section id="cart"')
    assert "$89.97" in html  # the line: 3 × 29.99
    assert '<strong id="cart-subtotal">$161.96</strong>' in html  # + 71.99
    assert re.search(r'<span id="cart-count" class="cart-count" hx-swap-oob="true">4<', html)


@pytest.mark.parametrize("quantity, status, message", [
    ("0", 400, "Enter a quantity of at least 1 (or remove the item)."),
    ("x", 400, "Not a valid integer value."),
    ("101", 409, "Only 100 of USB-C Charger in stock; 101 requested."),
])
@pytest.mark.parametrize("htmx", [False, True])
def test_a_refused_quantity_is_explained_beside_its_line(shop, shopper, quantity, status, message, htmx):
    store = shop()
    s = shopper(store.slug)
    s.add(store.product_id("PROD002"), 2)
    line = _line_id(text_of(s.get("/cart")), "USB-C Charger")
    response = s.post(f"/cart/items/{line}", {"quantity": quantity}, htmx_target="cart" if htmx else None)
    assert response.status_code == status
    assert f'<p id="error-{line}" class="field-error line-error" role="alert">{message}</p>' in text_of(response)
    with store.db() as session:
        assert session.query(CartItem).one().quantity == 2


def test_removing_the_last_line_says_the_cart_is_empty(shop, shopper):
    store = shop()
    s = shopper(store.slug)
    s.add(store.product_id("PROD002"), 2)
    line = _line_id(text_of(s.get("/cart")), "USB-C Charger")
    response = s.post(f"/cart/items/{line}/remove", htmx_target="cart")
    assert response.status_code == 200
    html = text_of(response)
    assert "Your cart is empty." in html and '<a href="/">Continue shopping</a>' in html
    assert re.search(r'<span id="cart-count" class="cart-count" hx-swap-oob="true">0<', html)
    assert store.count(CartItem) == 0


def test_removing_without_javascript_redirects_to_the_cart(shop, shopper):
    store = shop()
    s = shopper(store.slug)
    s.add(store.product_id("PROD002"), 2)
    s.add(store.product_id("PROD001"), 1)
    line = _line_id(text_of(s.get("/cart")), "USB-C Charger")
    response = s.post(f"/cart/items/{line}/remove")
    assert response.status_code == 303 and response.headers["Location"] == "/cart"
    html = text_of(s.get("/cart"))
    assert "USB-C Charger" not in html and "Wireless Headphones" in html


def test_empty_cart_page_links_back_to_the_catalog(shop, shopper):
    html = text_of(shopper(shop().slug).get("/cart"))
    assert "Your cart is empty." in html and '<a href="/">Continue shopping</a>' in html
    assert "Checkout</a>" not in html


def test_another_sessions_cart_line_is_not_found(shop, shopper):
    store = shop()
    owner, other = shopper(store.slug), shopper(store.slug)
    owner.add(store.product_id("PROD002"), 2)
    line = _line_id(text_of(owner.get("/cart")), "USB-C Charger")
    other.add(store.product_id("PROD001"), 1)
    assert other.post(f"/cart/items/{line}", {"quantity": "5"}).status_code == 404
    assert other.post(f"/cart/items/{line}/remove").status_code == 404
    assert shopper(store.slug).post(f"/cart/items/{line}/remove").status_code == 404  # no cookie at all
    with store.db() as session:
        assert session.get(CartItem, line).quantity == 2


def test_checkout_link_follows_the_checkout_features(shop, shopper):
    store = shop()
    s = shopper(store.slug)
    s.add(store.product_id("PROD002"))
    assert 'href="/checkout">Checkout</a>' in text_of(s.get("/cart"))
    store.configure(features={"checkout": False})
    assert "Checkout</a>" not in text_of(s.get("/cart"))
    assert s.get("/checkout").status_code == 403
    store.configure(features={"checkout": True, "guestCheckout": False})
    assert "Checkout</a>" not in text_of(s.get("/cart"))
    page = s.get("/checkout")
    assert page.status_code == 403 and "Guest checkout is disabled for this store." in text_of(page)


def test_the_api_and_the_pages_share_one_cart_service(shop, shopper):
    """The page's cart count and the API's itemCount are the same number for the same session."""
    store = shop()
    s = shopper(store.slug)
    s.add(store.product_id("PROD002"), 2)
    s.add(store.product_id("PROD001"), 3)
    api = store.client.get("/api/cart", headers=store.headers(s.cookie().value)).get_json()
    assert api["itemCount"] == 5 == int(_count_badge(text_of(s.get("/"))))
    assert str(api["subtotal"]) == "275.95"


def test_an_htmx_request_that_is_refused_gets_a_notice_in_the_flash_region(shop, shopper):
    store = shop()
    s = shopper(store.slug)
    s.add(store.product_id("PROD002"))
    gone = s.post(f"/cart/items/{uuid.uuid4()}/remove", htmx_target="cart")
    assert gone.status_code == 404
    assert gone.headers["HX-Retarget"] == "#flash" and gone.headers["HX-Reswap"] == "innerHTML"
    assert text_of(gone).strip() == '<p class="notice notice-error" role="alert">Cart item not found.</p>'
    store.configure(features={"cart": False})
    off = s.post("/cart/items", {"product_id": store.product_id("PROD001"), "quantity": "1"}, htmx_target="add-to-cart")
    assert off.status_code == 403 and off.headers["HX-Retarget"] == "#flash"
    assert "The &#39;cart&#39; feature is not enabled for this store." in text_of(off)
    no_token = s.post("/cart/items", {"quantity": "1"}, csrf=False, htmx_target="add-to-cart")
    assert no_token.status_code == 400 and "The CSRF token is missing." in text_of(no_token)
    assert no_token.headers["HX-Retarget"] == "#flash"
