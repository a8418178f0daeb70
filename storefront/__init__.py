"""The shop pages on each store's subdomain: http://{slug}.{PLATFORM_HOST}/ (and the platform's
landing page at / on PLATFORM_HOST itself)."""
from flask import Blueprint

bp = Blueprint("storefront", __name__)

from storefront import views  # noqa: E402,F401  (the routes)
