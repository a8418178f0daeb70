"""WSGI entry point: `gunicorn wsgi:app`."""
from storefleet.app import create_app

app = create_app()
