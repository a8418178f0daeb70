"""The composition root: the app factory (storefleet.app) and the operators' commands
(storefleet.cli) wire the domain (core), the web seam (web) and the delivery packages (api,
storefront, admin) together. Nothing but the entry points (wsgi.py, jobs' processes) imports it."""
