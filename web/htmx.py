"""htmx helpers of the pages (htmx-flask's `request.htmx` reads the request's HX-* headers).

Page or partial from one URL: a listing answers the whole page, or only the part an htmx
request swaps; a form that succeeded redirects (303 for a plain form, HX-Redirect for htmx).
"""
from __future__ import annotations

from flask import Response, make_response, redirect, render_template
from htmx_flask import make_response as htmx_response
from htmx_flask import request


def wants_partial(target: str | None = None) -> bool:
    """An htmx request for a fragment — aimed at element #`target` when one is given. A history
    restore asks for the whole page."""
    htmx = request.htmx
    return bool(htmx) and not htmx.history_restore_request and (target is None or htmx.target == target)


def page_or_partial(template: str, partial: str, context: dict, *, target: str | None = None,
                    status: int = 200) -> Response:
    """The full page, or only `partial` when wants_partial(target), rendered with `context` (a
    dict of its own, so that no template variable can take the place of `status`). Vary tells
    caches that both live at one URL."""
    response = make_response(render_template(partial if wants_partial(target) else template, **context), status)
    response.vary.add("HX-Request")
    return response


def redirect_after_post(url: str) -> Response:
    """After a POST that succeeded: 303 See Other for a plain form, HX-Redirect for htmx."""
    if request.htmx:
        return htmx_response("", 200, redirect=url)
    return redirect(url, 303)


def navigate(url: str) -> Response:
    """Send the browser to `url`: a redirect, or for htmx an HX-Redirect (an htmx request would
    otherwise swap the page it was redirected to into a fragment)."""
    if request.htmx:
        return htmx_response("", 204, redirect=url)
    return redirect(url)
