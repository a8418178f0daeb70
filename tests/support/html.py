"""Reading the pages a test client gets back: CSRF tokens and form posts as a browser sends them."""
from __future__ import annotations

import re

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(html: str) -> str:
    """The CSRF token of the first form of a page."""
    match = CSRF_FIELD.search(html)
    assert match, "the page has no CSRF token field"
    return match.group(1) or match.group(2)


def post_form(client, path: str, data: dict, *, host: str, form_page: str | None = None, **kwargs):
    """GET the page holding the form (default: `path`), then POST `data` with its CSRF token."""
    page = client.get(form_page or path, base_url=f"http://{host}")
    return client.post(path, base_url=f"http://{host}", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                                              **data}, **kwargs)
