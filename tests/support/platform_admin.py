"""The super-admin portal as its tests use it: a signed-in test client on the platform host, and
readers of what the pages show (errors beside fields, the progress fragment, credentials)."""
from __future__ import annotations

import html as htmllib
import re
from types import SimpleNamespace

import pytest

from tests.conftest import SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD
from tests.support.html import csrf_token


def field_error(page: str, field_id: str) -> str | None:
    """The error text shown beside the field `field_id` (and tied to it), or None."""
    match = re.search(rf'<p class="field-error" id="{re.escape(field_id)}-error">(.*?)</p>', page, re.S)
    if match is None:
        return None
    assert f'aria-describedby="{field_id}-error"' in page or f'{field_id}-error"' in page
    return htmllib.unescape(match.group(1)).strip()


def form_errors(page: str) -> str:
    """The errors shown above a form (those of no one field)."""
    match = re.search(r'<div class="form-errors" role="alert">(.*?)</div>', page, re.S)
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).strip() if match else ""


def flashes(page: str) -> list[str]:
    return [htmllib.unescape(m) for m in re.findall(r'<p class="flash" role="status">(.*?)</p>', page, re.S)]


def code_text(page: str, element_id: str) -> str:
    match = re.search(rf'<code id="{re.escape(element_id)}">(.*?)</code>', page, re.S)
    assert match, f"no <code id={element_id}> on the page"
    return htmllib.unescape(match.group(1)).strip()


def open_portal(app, email: str = SUPERADMIN_EMAIL, password: str = SUPERADMIN_PASSWORD):
    """Sign in to `app`'s super-admin portal with a new test client: .get(path), .post(path, data)
    (with the session's CSRF token unless csrf=False), .client."""
    client = app.test_client()
    base = f"http://{app.config['PLATFORM_HOST']}"
    login = client.get("/admin/login", base_url=base).get_data(as_text=True)
    signed_in = client.post("/admin/login", base_url=base,
                            data={"csrf_token": csrf_token(login), "email": email, "password": password})
    assert signed_in.status_code == 302, signed_in.get_data(as_text=True)
    token = csrf_token(client.get("/admin/tenants", base_url=base).get_data(as_text=True))

    def get(path: str, **kwargs):
        return client.get(path, base_url=base, **kwargs)

    def post(path: str, data: dict | None = None, *, csrf: bool = True, **kwargs):
        body = {"csrf_token": token, **(data or {})} if csrf else dict(data or {})
        return client.post(path, base_url=base, data=body, **kwargs)

    return SimpleNamespace(get=get, post=post, base=base, client=client, app=app)


@pytest.fixture
def portal(app):
    """The default app's super-admin portal, signed in (see open_portal)."""
    return open_portal(app)
