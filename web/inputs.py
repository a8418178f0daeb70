"""What a page's request may send (the API's requests are read by their models, which refuse the
same per field: core.validation.RequestModel): no NUL (U+0000) in a query string or a form, which
PostgreSQL can neither store nor compare. Such a request is a 400 page, changing nothing."""
from __future__ import annotations

from flask import Flask, request

from core.errors import ValidationFailed
from core.validation import NUL
from web.requests import is_api_request


def refuse_nul_in_pages() -> None:
    """before_request: a page's query or form holding NUL, in a name or a value, is a 400."""
    if is_api_request():
        return
    sources = [request.args] + ([request.form] if request.method in ("POST", "PUT", "PATCH") else [])
    for values in sources:
        for name, value in values.items(multi=True):
            if NUL in name or NUL in value:
                raise ValidationFailed.field(name.replace(NUL, ""), "Text must not contain the NUL character (U+0000).")


def init_inputs(app: Flask) -> None:
    app.before_request(refuse_nul_in_pages)
