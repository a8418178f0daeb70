"""The web seam: what the JSON API, the storefront and both portals share about HTTP.

Which kind of request this is (an API call or a page), the error mapper (problem+json or an
HTML page), the caller's token, the request's store and its database session, rate limits,
htmx helpers and the template filters. It sits between the delivery packages (api, storefront,
admin) and the domain (core): it imports core, and core never imports it.
"""
