"""A shopper's browser, played by a Flask test client on a store's host: it keeps its cookies,
reads the CSRF token of the last page and sends it with its forms (as a browser would)."""
from __future__ import annotations

import re

import pytest

from tests.support.shop import shop  # noqa: F401  (fixture: a store to shop in)

TOKEN = re.compile(r'X-CSRFToken&#34;: &#34;([^&"]+)&#34;|X-CSRFToken": "([^"]+)"|name="csrf_token" type="hidden" value="([^"]+)"')


class Shopper:
    def __init__(self, app, slug: str | None, scheme: str = "http"):
        self.app = app
        host = f"{slug}.{app.config['PLATFORM_HOST']}" if slug else app.config["PLATFORM_HOST"]
        self.base_url = f"{scheme}://{host}"
        self.client = app.test_client()
        self.csrf = None

    def _remember(self, response):
        match = TOKEN.search(response.get_data(as_text=True))
        if match:
            self.csrf = next(group for group in match.groups() if group)
        return response

    def get(self, path: str, htmx_target: str | None = None, **kwargs):
        headers = kwargs.pop("headers", {})
        if htmx_target:
            headers.update({"HX-Request": "true", "HX-Target": htmx_target})
        return self._remember(self.client.get(path, base_url=self.base_url, headers=headers, **kwargs))

    def post(self, path: str, data: dict | None = None, *, htmx_target: str | None = None, csrf: bool = True,
             **kwargs):
        data = dict(data or {})
        if csrf:
            if self.csrf is None:
                self.get("/cart")
            data.setdefault("csrf_token", self.csrf)
        # Browsers send the page's address as Referer; over HTTPS Flask-WTF checks it.
        headers = {"Referer": f"{self.base_url}/", **kwargs.pop("headers", {})}
        if htmx_target:
            headers.update({"HX-Request": "true", "HX-Target": htmx_target})
        return self._remember(self.client.post(path, base_url=self.base_url, data=data, headers=headers, **kwargs))

    def cookie(self, name: str = "shop_session"):
        return self.client.get_cookie(name, domain=self.base_url.split("://")[1].split(":")[0])

    def add(self, product_id: str, quantity: int = 1):
        response = self.post("/cart/items", {"product_id": product_id, "quantity": str(quantity)})
        assert response.status_code == 303, response.get_data(as_text=True)
        return response


@pytest.fixture
def shopper(app):
    """Factory: a new shopper (its own cookies) on the store `slug` (None: the platform host)."""

    def factory(slug: str | None, scheme: str = "http") -> Shopper:
        return Shopper(app, slug, scheme)

    return factory


def text_of(response) -> str:
    return response.get_data(as_text=True)
