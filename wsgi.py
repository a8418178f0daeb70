"""WSGI entry point: `gunicorn wsgi:app`, and the app the `flask` commands load (FLASK_APP=wsgi)."""
import click

from core.config import ConfigError
from storefleet.app import create_app

try:
    app = create_app()
except ConfigError as error:
    # A ClickException is how `flask …` reports an error: its message alone, exit status 1.
    # gunicorn prints any exception of a booting worker and halts rather than respawning it.
    raise click.ClickException(f"Storefleet cannot start: {error}") from None
