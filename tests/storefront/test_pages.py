"""The storefront's catalog and product pages, the platform's landing page, and the friendly
error pages of hosts that are not an open store — through the Flask test client."""
from __future__ import annotations

import dataclasses
import re
from decimal import Decimal

import pytest

from core.errors import ValidationFailed
from tests.storefront.conftest import text_of
from tests.support.flows import init_and_confirm


def test_landing_page_lists_ready_stores_and_links_admin_and_api_docs(app, shop, shopper, client):
    store = shop()
    _, pending = init_and_confirm(client)
    page = shopper(None).get("/")
    assert page.status_code == 200
    html = text_of(page)
    assert 'href="/admin/"' in html and 'href="/api/docs"' in html
    assert f'href="http://{store.slug}.{app.config["PLATFORM_HOST"]}/"' in html
    assert pending not in html


def test_unknown_store_host_is_a_friendly_404_page(shopper):
    page = shopper("no-such-store").get("/")
    assert page.status_code == 404
    assert page.mimetype == "text/html"
    assert "There is no store at no-such-store." in text_of(page)
    assert "Traceback" not in text_of(page)


def test_store_that_is_not_ready_is_a_friendly_409_page(client, shopper):
    _, slug = init_and_confirm(client)
    page = shopper(slug).get("/")
    assert page.status_code == 409
    assert page.mimetype == "text/html"
    assert "is not ready" in text_of(page)


def test_suspended_store_is_a_friendly_423_page(shop, shopper, client, superadmin_headers):
    store = shop()
    assert client.patch(f"/superadmin/tenants/{store.slug}", headers=superadmin_headers,
                        json={"status": "Suspended"}).status_code == 200
    for path in ("/", "/cart", "/checkout", f"/products/{store.product_id('PROD001')}"):
        page = shopper(store.slug).get(path)
        assert page.status_code == 423, path
        assert "is suspended" in text_of(page)


def test_store_pages_are_not_served_on_the_platform_host(shopper):
    for path in ("/cart", "/checkout", "/products/x"):
        page = shopper(None).get(path)
        assert page.status_code == 404, path
        assert page.mimetype == "text/html"


def test_api_paths_still_answer_problem_json_on_store_hosts(shop, shopper):
    store = shop()
    response = shopper(store.slug).get("/api/catalog/products")
    assert response.status_code == 409  # the API names its store with X-Tenant-Slug, never the host
    assert response.mimetype == "application/problem+json"


def test_catalog_shows_cards_with_final_and_struck_old_price_and_stock_badges(shop, shopper):
    store = shop()
    store.set_stock("PROD002", 4)
    store.set_stock("PROD004", 0)
    html = text_of(shopper(store.slug).get("/"))
    assert "<title>All products · Test Store</title>" in html
    card = _card(html, "Wireless Headphones")
    assert "$71.99" in card and re.search(r"<del[^>]*>.*\$79\.99</del>", card)
    assert "In stock" in card
    assert "Low stock" in _card(html, "USB-C Charger") and "<del" not in _card(html, "USB-C Charger")
    assert "Out of stock" in _card(html, "Laptop Stand")
    assert 'src="/static/img/products/headphones.svg"' in card
    assert "5 products" in html


def test_a_card_follows_every_change_of_what_it_shows(shop, shopper):
    """Cards are kept per process by the values they show (storefront.cards): a change of
    stock, price or name is on the next page, never a kept card of the old values."""
    store = shop()
    s = shopper(store.slug)
    assert "In stock" in _card(text_of(s.get("/")), "Wireless Headphones")
    store.set_stock("PROD001", 0)
    assert "Out of stock" in _card(text_of(s.get("/")), "Wireless Headphones")
    store.set_product("PROD001", price=Decimal("100.00"), discount=Decimal("0.5"))
    card = _card(text_of(s.get("/")), "Wireless Headphones")
    assert "$50.00" in card and "$100.00" in card and "−50%" in card
    store.set_product("PROD001", name="Wired Headphones")
    html = text_of(s.get("/"))
    assert "Wired Headphones" in html and "Wireless Headphones" not in html
    assert "Out of stock" in _card(html, "Wired Headphones")


def test_a_card_is_rendered_once_for_the_values_it_shows(app):
    from core.catalog.listing import ListedProduct
    from storefront.cards import product_card

    product = ListedProduct("p-1", "Lamp", "", Decimal("10.00"), Decimal("0"), Decimal("10.00"), 5, True,
                            ["/lamp.svg"], {}, 10, ())
    with app.test_request_context("/"):
        first = product_card(product)
        assert product_card(product) is first
        assert product_card(dataclasses.replace(product, stock=50)) is not first   # another badge
        assert product_card(dataclasses.replace(product, description="Bright")) is first   # not on the card


def _card(html: str, name: str) -> str:
    start = html.index(f'<h3 class="card-title">{name}</h3>')
    return html[html.rindex("<article", 0, start):html.index("</article>", start)]


def _names(html: str) -> list[str]:
    return re.findall(r'<h3 class="card-title">([^<]+)</h3>', html)


def test_search_category_and_price_filters_work_as_plain_links(shop, shopper, tenant_db):
    store = shop()
    s = shopper(store.slug)
    assert _names(text_of(s.get("/?search=head"))) == ["Wireless Headphones"]
    assert _names(text_of(s.get("/?search=usb"))) == ["USB-C Charger"]
    html = text_of(s.get("/"))
    audio = re.search(r'<option value="([^"]+)">Audio</option>', html).group(1)
    assert _names(text_of(s.get(f"/?category={audio}"))) == ["Bluetooth Speaker", "Wireless Headphones"]
    # final prices: headphones 71.99, charger 29.99, speaker 127.49, stand 49.99, webcam 85.49
    assert _names(text_of(s.get("/?min_price=40&max_price=90"))) == ["Laptop Stand", "Webcam 1080p", "Wireless Headphones"]
    filtered = text_of(s.get(f"/?search=e&category={audio}&max_price=100"))
    assert _names(filtered) == ["Wireless Headphones"]
    assert 'value="e"' in filtered and f'<option selected value="{audio}">Audio</option>' in filtered


def test_pagination_links_carry_the_filters(shop, shopper, create_product):
    store = shop()
    for n in range(20):
        create_product(store.slug, f"Gadget {n:02d}", price="5.00")
    s = shopper(store.slug)
    first = text_of(s.get("/?search=gadget"))
    assert _names(first) == [f"Gadget {n:02d}" for n in range(12)]
    assert "20 products matching “gadget” · page 1 of 2" in first
    assert 'href="/?page=2&amp;search=gadget" rel="next"' in first
    second = text_of(s.get("/?page=2&search=gadget"))
    assert _names(second) == [f"Gadget {n:02d}" for n in range(12, 20)]
    assert 'href="/?page=1&amp;search=gadget" rel="prev"' in second
    beyond = s.get("/?page=9&search=gadget")
    assert beyond.status_code == 200 and "There is no page 9." in text_of(beyond)


@pytest.mark.parametrize("query, field, message", [
    ("min_price=abc", "min_price", "Not a valid decimal value."),
    ("min_price=-1", "min_price", "Number must be between 0 and"),
    ("max_price=NaN", "max_price", "Enter a number."),
    ("min_price=50&max_price=10", "min_price", "Min price must not be greater than max price."),
    ("category=not-a-category", "category", "Not a valid choice."),
    ("search=" + "x" * 201, "search", "Field cannot be longer than 200 characters."),
])
def test_bad_filter_is_explained_beside_its_field(shop, shopper, query, field, message):
    store = shop()
    page = shopper(store.slug).get(f"/?{query}")
    assert page.status_code == 400
    html = text_of(page)
    error = re.search(rf'<p id="{field}-error" class="field-error">([^<]*)</p>', html).group(1)
    assert message in error
    assert f'aria-describedby="{field}-error" aria-invalid="true"' in html or \
        re.search(rf'aria-invalid="true"[^>]*id="{field}"', html)


def test_bad_page_number_is_a_400_not_a_crash(shop, shopper):
    page = shopper(shop().slug).get("/?page=abc")
    assert page.status_code == 400
    assert "Not a valid integer value." in text_of(page)


def test_htmx_search_answers_the_results_partial_with_its_field_errors_out_of_band(shop, shopper):
    s = shopper(shop().slug)
    partial = s.get("/?search=head", htmx_target="results")
    html = text_of(partial)
    assert partial.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<section id="results"')
    assert _names(html) == ["Wireless Headphones"]
    assert '<p id="search-error" class="field-error" hx-swap-oob="true"></p>' in html
    assert "HX-Request" in partial.headers["Vary"]
    bad = s.get("/?min_price=abc", htmx_target="results")
    assert bad.status_code == 400
    assert '<p id="min_price-error" class="field-error" hx-swap-oob="true">Not a valid decimal value.</p>' in text_of(bad)
    restore = s.get("/?search=head", htmx_target="results", headers={"HX-History-Restore-Request": "true"})
    assert "<html" in text_of(restore)


def test_product_page_shows_details_attributes_and_the_add_form(shop, shopper):
    store = shop()
    page = shopper(store.slug).get(f"/products/{store.product_id('PROD001')}")
    assert page.status_code == 200
    html = text_of(page)
    assert "<h1>Wireless Headphones</h1>" in html
    assert "active noise cancelling" in html
    assert "<dt>Brand</dt><dd>AudioTech</dd>" in html and "<dt>Bluetooth</dt><dd>5.3</dd>" in html
    assert 'alt="Wireless Headphones"' in html
    assert '<label for="quantity">Quantity</label>' in html
    assert ">Add to cart</button>" in html
    assert 'name="csrf_token"' in html


def test_product_page_of_missing_inactive_or_malformed_product_is_404(shop, shopper):
    store = shop()
    store.set_product("PROD003", is_active=False)
    s = shopper(store.slug)
    for path in ("/products/not-a-uuid", "/products/3fa85f64-5717-4562-b3fc-2c963f66afa6",
                 f"/products/{store.product_id('PROD003')}"):
        page = s.get(path)
        assert page.status_code == 404, path
        assert page.mimetype == "text/html"


def test_catalog_feature_off_is_a_friendly_403_page(shop, shopper):
    store = shop()
    store.configure(features={"catalog": False})
    s = shopper(store.slug)
    for path in ("/", f"/products/{store.product_id('PROD001')}"):
        page = s.get(path)
        assert page.status_code == 403, path
        assert "The &#39;catalog&#39; feature is not enabled for this store." in text_of(page)


def test_cart_feature_off_hides_the_cart_and_refuses_its_pages(shop, shopper):
    store = shop()
    store.configure(features={"cart": False})
    s = shopper(store.slug)
    html = text_of(s.get(f"/products/{store.product_id('PROD001')}"))
    assert "Add to cart" not in html and 'href="/cart"' not in html
    assert s.get("/cart").status_code == 403
    assert s.post("/cart/items", {"product_id": store.product_id("PROD001"), "quantity": "1"}).status_code == 403


def test_categories_feature_off_hides_the_category_filter(shop, shopper):
    store = shop()
    store.configure(features={"categories": False})
    html = text_of(shopper(store.slug).get("/?category=whatever"))
    assert 'name="category"' not in html
    assert "5 products" in html


def test_service_fields_cover_every_listing_error():
    from storefront.forms import CatalogFilterForm

    with pytest.raises(ValidationFailed) as caught:
        from core.catalog.listing import _check_listing
        _check_listing(0, 0, "x" * 999, -1, -1)
    assert set(caught.value.errors) - {"pageSize"} <= set(CatalogFilterForm.SERVICE_FIELDS)


def test_catalog_page_costs_the_same_few_queries_whatever_it_shows(shop, shopper, create_product, count_queries):
    store = shop()
    for n in range(20):
        create_product(store.slug, f"Gadget {n:02d}")
    s = shopper(store.slug)
    with count_queries(store.slug) as statements:
        assert s.get("/?search=gadget&page=2").status_code == 200
    queries = [q for q in statements if q != "BEGIN"]
    # The page, with its products' categories and the filter's categories. The last page is not
    # full: its count is known without counting.
    assert len(queries) == 1 and "count(" not in queries[0]
    s.add(store.product_id("PROD001"))
    with count_queries(store.slug) as statements:
        assert s.get("/").status_code == 200
    queries = [q for q in statements if q != "BEGIN"]
    assert len(queries) == 3  # and the header's cart count, and (a full page) the count
    with count_queries(store.slug) as statements:
        assert s.get("/").status_code == 200
    queries = [q for q in statements if q != "BEGIN"]
    assert len(queries) == 1 and "cart_items" in queries[0]  # the page is kept: the cart count alone


# --- the page a visitor without a cart is shown, kept (core.catalog.pages) ----------------------

def test_a_visitor_without_a_cart_is_shown_a_kept_page_that_follows_every_change(shop, shopper, count_queries,
                                                                                 superadmin_headers):
    store = shop()
    visitor = shopper(store.slug)
    first = visitor.get("/?search=head")
    assert first.status_code == 200 and "Wireless Headphones" in text_of(first)
    with count_queries(store.slug) as statements:
        again = visitor.get("/?search=head")
    assert statements == [] and again.get_data() == first.get_data()
    assert "Set-Cookie" not in again.headers

    store.set_stock("PROD001", 0)   # the catalog changed: a new version
    assert "Out of stock" in _card(text_of(visitor.get("/?search=head")), "Wireless Headphones")
    renamed = store.client.patch(f"/superadmin/tenants/{store.slug}", headers=superadmin_headers,
                                 json={"name": "Harbour Goods"})
    assert renamed.status_code == 200, renamed.get_json()
    assert "<h1>Harbour Goods</h1>" in text_of(visitor.get("/?search=head"))   # what the page shows of the store
    store.configure(features={"categories": False})
    assert 'name="category"' not in text_of(visitor.get("/?search=head"))
    # The results alone (htmx) are another page than the whole.
    results = visitor.get("/?search=head", htmx_target="results")
    assert "<html" not in text_of(results) and "Wireless Headphones" in text_of(results)


def test_a_shopper_with_a_cart_is_shown_their_own_page(shop, shopper):
    store = shop()
    visitor, buyer = shopper(store.slug), shopper(store.slug)
    assert visitor.get("/").status_code == 200
    buyer.add(store.product_id("PROD002"), 2)
    assert 'class="cart-count">2<' in text_of(buyer.get("/")).replace(" ", "")
    assert 'class="cart-count">2<' not in text_of(visitor.get("/")).replace(" ", "")


def test_a_refused_filter_is_never_kept(shop, shopper, count_queries):
    """An error page is made anew each time (it reads the filter's categories again)."""
    store = shop()
    visitor = shopper(store.slug)
    assert visitor.get("/?min_price=abc").status_code == 400
    with count_queries(store.slug) as statements:
        refused = visitor.get("/?min_price=abc")
    assert refused.status_code == 400 and "categories" in " ".join(statements)


@pytest.mark.parametrize("path", ["/", "/cart", "/admin/login"])
@pytest.mark.parametrize("on_store", [True, False])
def test_every_page_has_the_icon_and_favicon_ico_leads_to_it(shop, shopper, path, on_store):
    s = shopper(shop().slug if on_store else None)
    if not on_store and path == "/cart":
        path = "/"   # the platform host has no cart
    page = s.get(path)
    assert page.status_code == 200
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in text_of(page)
    asked = s.get("/favicon.ico")
    assert asked.status_code == 301 and asked.headers["Location"] == "/static/favicon.svg"
    icon = s.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
