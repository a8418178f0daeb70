"""The shop pages on each store's subdomain: http://{slug}.{PLATFORM_HOST}/ (and the platform's
landing page at / on PLATFORM_HOST itself)."""
from storefront.views import bp

__all__ = ["bp"]
