"""The shop pages on each store's subdomain: http://{slug}.{PLATFORM_HOST}/."""
