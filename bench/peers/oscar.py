"""Bench peer: django-oscar-api 3.3.0 on django-oscar 4.1 (Django 5.2 LTS), on PostgreSQL.

The peer lives entirely under a work directory: its own virtualenv (`workdir/venv`, built from PyPI
with every version pinned in PINNED_REQUIREMENTS, reused while complete), a minimal Django project
written by setup() (`workdir/project`), and gunicorn's log (`workdir/gunicorn.log`). Its database
`sf_peer_oscar_<random>` is created on the given PostgreSQL server by setup() and dropped by stop().

    /work/main/.venv/bin/python bench/peers/oscar.py [--products 10000] [--workdir /tmp/oscar-peer]

installs, sets up, starts, smoke-checks the three calls the load generator makes and stops.

Configuration, and why:

* Sessions and CSRF. Django's default middleware (cookie SessionMiddleware, CsrfViewMiddleware)
  plus Oscar's two, as Oscar's install docs give them. oscarapi also ships a
  HeaderSessionMiddleware (`Session-Id: SID:ANON:<realm>:<id>` header, CSRF switched off), but its
  docs restrict it to a *trusted* server-side application acting for users and call cookie
  sessions "the preferred method of authentication for any untrusted applications" -- which is
  what a headless storefront (SPA, mobile app) is. So each guest is identified by its `sessionid`
  cookie. No CSRF token is needed for guests: DRF views are csrf_exempt at the Django level and
  DRF's SessionAuthentication enforces CSRF only once a user is logged in, so an anonymous POST
  carries just its session cookie (an add-to-basket without any cookie opens a new session and a
  new basket). This is a property of oscarapi/DRF, not something configured here.
* Basket middleware: Oscar's own BasketMiddleware, as Oscar's docs say. oscarapi's
  ApiBasketMiddleWare is only meant for sites mixing the API with Oscar's HTML views; only the
  API is mounted here (at /api/, as oscarapi's docs do).
* Production-ish: DEBUG off, DRF's default renderers/authentication, persistent connections
  (CONN_MAX_AGE=600: 2 gunicorn sync workers hold at most 2 connections), ATOMIC_REQUESTS on as
  Oscar's docs recommend, Django's database session backend, no cache framework or response
  caching (Oscar has none by default), Haystack's simple backend (Oscar's documented default;
  the API does not search), logging at ERROR only, gunicorn's access log off.
* Checkout: OSCAR_ALLOW_ANON_CHECKOUT=True; Oscar's default shipping repository offers only
  "free-shipping"; the default strategy charges no tax, so a basket's total_incl_tax is known.
  Oscar needs a shipping country in its `address_country` table (normally loaded from pycountry
  by `oscar_populate_countries`); the seed creates just GB. Orders are placed by POST
  /api/checkout/ with the basket URL, guest_email, the shipping method code, the expected total
  and a GB shipping address. oscarapi freezes the basket, so a replayed body cannot order twice.
* Catalogue: one product class (shipping required, stock tracked), one partner, `products`
  standalone products, each with one stockrecord (GBP 1.00-500.00, 10**6 in stock) and its
  (zeroed) row of Oscar's analytics counters, as a shop that has been live has: see peer_seed.py
  for the race their absence causes. Every prepared checkout buys the same two products, so
  concurrent orders queue on the locks of the same two stockrecord (and analytics) rows, and every
  add-to-basket bumps the same analytics row.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import shutil
import socket
import string
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx  # the bench's own interpreter has both
import psycopg

#: The interpreter the peer's virtualenv is built from (Python 3.11 on this machine).
PYTHON = "python3"

#: Everything installed into the peer's virtualenv, direct and transitive, so a build is reproducible.
#: Django 5.2 (LTS) is within django-oscar 4.1's `django>=4.2,<5.3` and oscarapi's `Django>=3.2`;
#: setuptools is oscarapi's declared dependency (the version `python3 -m venv` already ships).
PINNED_REQUIREMENTS = (
    "django-oscar==4.1",
    "django-oscar-api==3.3.0",
    "Django==5.2.20",
    "djangorestframework==3.18.3",
    "gunicorn==27.0.1",
    "psycopg==3.3.9",
    "psycopg-binary==3.3.9",
    # dependencies of the above
    "asgiref==3.13.0",
    "babel==2.19.0",
    "django-extra-views==0.16.0",
    "django-haystack==3.4.0",
    "django-phonenumber-field==8.5.0",
    "django-tables2==2.7.0",
    # treebeard >= 6 wants node models managed by its MP_NodeManager, which Oscar 4.1's Category
    # manager is not (5.x's check treebeard.E001 says so): oscarapi.urls then fails at import with
    # "...has no attribute 'get_root_nodes'". 5.3.1 is the newest release that works.
    "django-treebeard==5.3.1",
    "django-widget-tweaks==1.5.1",
    "factory-boy==3.3.3",
    "Faker==40.63.0",
    "packaging==26.4",
    "phonenumbers==9.0.43",
    "pillow==13.0.0",
    "purl==1.6",
    "setuptools==65.5.0",
    "six==1.17.0",
    "sqlparse==0.6.1",
    "typing-extensions==4.16.0",
)

GUNICORN_WORKERS = 2
START_DEADLINE_S = 60.0
STOP_DEADLINE_S = 30.0
PAGE_SIZE = 20
IN_STOCK = 10**6
#: Country of every guest's shipping address (the only shipping country the seed creates).
COUNTRY = "GB"
#: Seed of the random catalogue (titles, prices) and of the products picked for the calls below.
CATALOGUE_SEED = 20_241_001

# -- the Django project written into workdir/project by setup() ------------------------------------

SETTINGS_PY = string.Template('''\
"""Settings of the Oscar bench peer. Written by bench/peers/oscar.py; rewritten by each setup()."""
import warnings

from oscar import INSTALLED_APPS as OSCAR_INSTALLED_APPS
from oscar.defaults import *  # noqa: F401,F403  (Oscar's documented way to get its defaults)

DEBUG = False
ALLOWED_HOSTS = ["*"]
SECRET_KEY = $secret_key
ROOT_URLCONF = "peer_urls"
WSGI_APPLICATION = "peer_wsgi.application"
SITE_ID = 1
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_TZ = True
STATIC_URL = "/static/"

# Oscar's own app list (what its install docs spell out) plus DRF and oscarapi.
INSTALLED_APPS = OSCAR_INSTALLED_APPS + ["rest_framework", "oscarapi"]

# Django's defaults plus Oscar's two (install docs). Plain cookie sessions: see the peer's docstring.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "oscar.apps.basket.middleware.BasketMiddleware",
    "django.contrib.flatpages.middleware.FlatpageFallbackMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "oscar.apps.customer.auth_backends.EmailBackend",
    "django.contrib.auth.backends.ModelBackend",
]

TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.debug",
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.template.context_processors.i18n",
        "django.contrib.messages.context_processors.messages",
        "oscar.apps.search.context_processors.search_form",
        "oscar.apps.checkout.context_processors.checkout",
        "oscar.apps.communication.notifications.context_processors.notifications",
        "oscar.core.context_processors.metadata",
    ]},
}]

DATABASES = {"default": {
    "ENGINE": "django.db.backends.postgresql",
    "NAME": $db_name,
    "USER": $db_user,
    "PASSWORD": $db_password,
    "HOST": $db_host,
    "PORT": $db_port,
    "ATOMIC_REQUESTS": True,  # recommended by Oscar's install docs
    "CONN_MAX_AGE": 600,  # persistent: one connection per gunicorn worker
}}

HAYSTACK_CONNECTIONS = {"default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}}

REST_FRAMEWORK = {
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": $page_size,
}

OSCAR_ALLOW_ANON_CHECKOUT = True

# Quiet: only errors (with their tracebacks) reach gunicorn's log, not 4xx warnings.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler", "level": "ERROR"}},
    "root": {"handlers": ["stderr"], "level": "ERROR"},
}
# Each order's payment_url makes oscarapi warn that no "api-payment" view exists (payment is
# out of scope here); Python prints it once per worker. Keep gunicorn's log for real errors.
warnings.filterwarnings("ignore", message="You need to implement a view named 'api-payment'")
''')

URLS_PY = '''\
"""URLs of the Oscar bench peer: only the REST API, mounted where oscarapi's docs put it."""
from django.urls import include, path

urlpatterns = [path("api/", include("oscarapi.urls"))]
'''

WSGI_PY = '''\
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_settings")
application = get_wsgi_application()
'''

SEED_PY = '''\
"""Migrate the peer's database and create the bench catalogue. Written by bench/peers/oscar.py.

    python peer_seed.py PRODUCTS SEED IN_STOCK COUNTRY

Prints one JSON line: {"add_product": id, "checkout_products": [id, id]}.
"""
import json
import os
import random
import sys
from decimal import Decimal

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from oscar.core.loading import get_model  # noqa: E402

Country = get_model("address", "Country")
Partner = get_model("partner", "Partner")
Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")
ProductRecord = get_model("analytics", "ProductRecord")
StockRecord = get_model("partner", "StockRecord")

COUNTRIES = {"GB": ("GBR", "826", "United Kingdom", "United Kingdom of Great Britain and Northern Ireland")}
ADJECTIVES = ["Compact", "Wireless", "Portable", "Premium", "Classic", "Ergonomic", "Smart", "Rugged", "Slim",
              "Vintage", "Pro", "Ultra", "Eco", "Deluxe", "Foldable", "Magnetic", "Waterproof", "Heated"]
MATERIALS = ["Aluminium", "Bamboo", "Leather", "Steel", "Cotton", "Ceramic", "Carbon", "Oak", "Glass", "Wool"]
NOUNS = ["Headphones", "Speaker", "Charger", "Laptop Stand", "Webcam", "Keyboard", "Mouse", "Desk Lamp",
         "Backpack", "Water Bottle", "Coffee Mug", "Notebook", "Monitor Arm", "USB Hub", "Phone Case"]
BATCH = 2000


def main(count, seed, in_stock, country):
    call_command("migrate", interactive=False, verbosity=0)
    rng = random.Random(seed)
    with transaction.atomic():
        a3, numeric, printable, official = COUNTRIES[country]
        Country.objects.create(iso_3166_1_a2=country, iso_3166_1_a3=a3, iso_3166_1_numeric=numeric,
                               printable_name=printable, name=official, is_shipping_country=True)
        product_class = ProductClass.objects.create(name="Bench goods", slug="bench-goods",
                                                    requires_shipping=True, track_stock=True)
        partner = Partner.objects.create(code="bench", name="Bench partner")
        # bulk_create skips save() and its signals (Haystack's realtime indexing among them);
        # on PostgreSQL it returns the primary keys, which the stockrecords need.
        products = Product.objects.bulk_create(
            [Product(structure=Product.STANDALONE, product_class=product_class, is_public=True,
                     title=f"{rng.choice(ADJECTIVES)} {rng.choice(MATERIALS)} {rng.choice(NOUNS)} {i}",
                     slug=f"bench-product-{i}", upc=f"SF{i:08d}",
                     description="A product of the side-by-side bench catalogue.")
             for i in range(1, count + 1)],
            batch_size=BATCH)
        StockRecord.objects.bulk_create(
            [StockRecord(product=product, partner=partner, partner_sku=f"SF-{product.upc}",
                         price_currency=settings.OSCAR_DEFAULT_CURRENCY,
                         price=Decimal(rng.randint(100, 50_000)).scaleb(-2), num_in_stock=in_stock)
             for product in products],
            batch_size=BATCH)
        # Oscar's analytics keep one counter row per product, created on the product's first view
        # or basket addition; a live shop has them. Without them, the first concurrent additions
        # of a product race to create it, and under ATOMIC_REQUESTS the loser answers 500 (the
        # receiver's IntegrityError fallback cannot run inside the aborted request transaction).
        ProductRecord.objects.bulk_create([ProductRecord(product=product) for product in products],
                                          batch_size=BATCH)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # planner statistics, as autovacuum would gather on a live shop
    picked = rng.sample(products, 3)
    print(json.dumps({"add_product": picked[0].pk, "checkout_products": [p.pk for p in picked[1:]]}))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
'''


class PeerError(RuntimeError):
    """A step of the peer failed; the message carries the tail of the relevant output."""


class OscarPeer:
    """django-oscar-api 3.3 on Oscar 4.1, in its own virtualenv, on PostgreSQL."""

    def __init__(self, workdir: Path, server_url: str = "postgresql://postgres@127.0.0.1:5432/postgres",
                 port: int = 8030, products: int = 10_000):
        if products < 3:
            raise ValueError("products must be at least 3 (one to add, two to check out)")
        self.workdir = Path(workdir).resolve()
        self.server_url = server_url
        self.port = port
        self.products = products
        self.venv = self.workdir / "venv"
        self.project = self.workdir / "project"
        self.log_path = self.workdir / "gunicorn.log"
        self.base_url = f"http://127.0.0.1:{port}"
        self.db_name = f"sf_peer_oscar_{secrets.token_hex(4)}"
        self._db_created = False
        self._server: subprocess.Popen | None = None
        self._add_product: int | None = None
        self._checkout_products: list[int] = []

    # -- lifecycle --------------------------------------------------------------------------------

    def install(self) -> None:
        """Build workdir/venv with the pinned packages, unless a complete one is already there."""
        if self._venv_complete():
            return
        if self.venv.exists():  # incomplete or built from other pins: start again from scratch
            shutil.rmtree(self.venv)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._run([PYTHON, "-m", "venv", str(self.venv)], "python3 -m venv")
        requirements = self.workdir / "requirements.txt"
        requirements.write_text("\n".join(PINNED_REQUIREMENTS) + "\n")
        self._run([str(self.venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
                   "--no-input", "-r", str(requirements)], "pip install", timeout=1200)
        self._run([str(self.venv / "bin" / "pip"), "check"], "pip check")
        self._marker().write_text(self._pins_digest())

    def setup(self) -> None:
        """Write the Django project, create and migrate the database, create the catalogue."""
        if not self._venv_complete():
            raise PeerError("install() first")
        if self._db_created:
            raise PeerError(f"already set up (database {self.db_name}); stop() first")
        self._write_project()
        self._admin_execute(f'CREATE DATABASE "{self.db_name}"')
        self._db_created = True
        out = self._run([str(self.venv / "bin" / "python"), "peer_seed.py", str(self.products),
                         str(CATALOGUE_SEED), str(IN_STOCK), COUNTRY], "migrate and seed",
                        cwd=self.project, env=self._django_env(), timeout=600)
        picked = json.loads(out.strip().splitlines()[-1])
        self._add_product = picked["add_product"]
        self._checkout_products = picked["checkout_products"]

    def start(self) -> None:
        """Run gunicorn on 127.0.0.1:port; return once the product list answers 200."""
        if self._server is not None:
            raise PeerError("already started")
        if self._port_in_use():
            raise PeerError(f"127.0.0.1:{self.port} is already taken by another process")
        with open(self.log_path, "wb") as log:  # the child keeps its own descriptor
            self._server = subprocess.Popen(
                [str(self.venv / "bin" / "gunicorn"), "peer_wsgi:application",
                 "--bind", f"127.0.0.1:{self.port}", "--workers", str(GUNICORN_WORKERS),
                 "--worker-class", "sync", "--log-level", "warning", "--error-logfile", "-",
                 # gunicorn >= 24 opens a control socket at one fixed path per user by default,
                 # which two servers on the machine would fight over
                 "--no-control-socket"],
                cwd=self.project, env=self._django_env(), stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_DEADLINE_S
        url = self.base_url + self.product_list_path()
        last = "no answer"
        while time.monotonic() < deadline:
            try:
                status = httpx.get(url, timeout=5).status_code
                if status == 200:
                    return
                if status >= 500:  # the application is up but broken: waiting will not help
                    raise PeerError(f"GET {url} answered {status}\n{self._log_tail()}")
                last = f"HTTP {status}"
            except httpx.TransportError as exc:
                last = repr(exc)
            try:  # the pause between polls doubles as a watch on gunicorn dying early
                code = self._server.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                continue
            raise PeerError(f"gunicorn exited with {code} while starting\n{self._log_tail()}")
        raise PeerError(f"GET {url} not 200 within {START_DEADLINE_S:.0f} s ({last})\n{self._log_tail()}")

    def stop(self) -> None:
        """Stop gunicorn (if running) and drop the database (if created). Safe to call at any point."""
        try:
            if self._server is not None:
                if self._server.poll() is None:
                    self._server.terminate()  # SIGTERM: gunicorn's graceful shutdown
                    try:
                        self._server.wait(timeout=STOP_DEADLINE_S)
                    except subprocess.TimeoutExpired:
                        self._server.kill()
                        self._server.wait()
                self._server = None
        finally:
            if self._db_created:
                # FORCE also ends connections a stray worker might still hold
                self._admin_execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
                self._db_created = False

    # -- what the load generator sends ------------------------------------------------------------

    def product_list_path(self) -> str:
        """Page 1 of the product list: {"count": products, "next": ..., "results": [20 products]}."""
        return "/api/products/"

    def add_to_basket(self) -> tuple[str, dict, str]:
        """One guest add-to-basket; sent without a cookie it opens a new session and basket (200)."""
        self._require_setup()
        body = {"url": self._product_url(self._add_product), "quantity": 1}
        return "/api/basket/add-product/", dict(self._json_headers()), json.dumps(body)

    def prepare_checkouts(self, n: int) -> tuple[str, list[tuple[dict, str]]]:
        """n guest baskets filled beforehand with the same two lines; POSTing body i with headers i
        to the path places one order (200) for basket i."""
        self._require_setup()
        if n <= 0:
            return "/api/checkout/", []
        threads = min(4, n)  # a little client-side overlap; the server has 2 workers anyway
        bounds = [(n * k // threads, n * (k + 1) // threads) for k in range(threads)]
        with ThreadPoolExecutor(max_workers=threads) as pool:
            chunks = list(pool.map(lambda b: self._prepare_range(*b), bounds))
        return "/api/checkout/", [checkout for chunk in chunks for checkout in chunk]

    def count_orders(self) -> int:
        """Orders in the peer's database."""
        with psycopg.connect(self.server_url, dbname=self.db_name) as conn:
            return conn.execute('SELECT count(*) FROM "order_order"').fetchone()[0]

    # -- helpers ----------------------------------------------------------------------------------

    def _prepare_range(self, first: int, stop: int) -> list[tuple[dict, str]]:
        """Baskets first..stop-1, each in its own session, through one HTTP client."""
        prepared = []
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            for i in range(first, stop):
                client.cookies.clear()  # a new guest: no session cookie, so a new basket
                basket = None
                for product in self._checkout_products:
                    response = client.post("/api/basket/add-product/", headers=self._json_headers(),
                                           json={"url": self._product_url(product), "quantity": 1})
                    if response.status_code != 200:
                        raise PeerError(f"add-product for basket {i}: HTTP {response.status_code} "
                                        f"{response.text[:500]}")
                    basket = response.json()
                cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
                if "sessionid=" not in cookie:
                    raise PeerError(f"basket {i}: no session cookie set ({cookie!r})")
                body = {
                    "basket": basket["url"],
                    "guest_email": f"guest{i}@example.com",
                    "total": basket["total_incl_tax"],  # free shipping, so the order total
                    "shipping_method_code": "free-shipping",
                    "shipping_address": {
                        "title": "Ms", "first_name": "Ada", "last_name": f"Guest {i}",
                        "line1": "1 Bench Street", "line2": "", "line3": "", "line4": "London",
                        "state": "", "postcode": "SW1A 1AA", "phone_number": "+44 20 7946 0958",
                        "notes": "", "country": f"{self.base_url}/api/countries/{COUNTRY}/",
                    },
                }
                prepared.append(({**self._json_headers(), "Cookie": cookie}, json.dumps(body)))
        return prepared

    def _product_url(self, product_id: int | None) -> str:
        # oscarapi identifies products by hyperlink, as its product list returns them
        return f"{self.base_url}/api/products/{product_id}/"

    @staticmethod
    def _json_headers() -> dict:
        return {"Content-Type": "application/json", "Accept": "application/json"}

    def _require_setup(self) -> None:
        if self._add_product is None:
            raise PeerError("setup() first")

    def _write_project(self) -> None:
        url = urlsplit(self.server_url)
        settings = SETTINGS_PY.substitute(
            secret_key=repr(secrets.token_urlsafe(50)), db_name=repr(self.db_name),
            db_user=repr(unquote(url.username or "postgres")), db_password=repr(unquote(url.password or "")),
            db_host=repr(url.hostname or "127.0.0.1"), db_port=repr(str(url.port or 5432)),
            page_size=PAGE_SIZE)
        if self.project.exists():
            shutil.rmtree(self.project)
        self.project.mkdir(parents=True)
        for name, text in (("peer_settings.py", settings), ("peer_urls.py", URLS_PY),
                           ("peer_wsgi.py", WSGI_PY), ("peer_seed.py", SEED_PY)):
            (self.project / name).write_text(text)

    def _django_env(self) -> dict:
        env = dict(os.environ)
        # only the project on the path: nothing of the caller's (this file is named oscar.py too)
        env["PYTHONPATH"] = str(self.project)
        env["DJANGO_SETTINGS_MODULE"] = "peer_settings"
        env["PYTHONUNBUFFERED"] = "1"
        env.pop("VIRTUAL_ENV", None)
        return env

    def _admin_execute(self, sql: str) -> None:
        """Run one statement (CREATE/DROP DATABASE) on the server's maintenance database."""
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            conn.execute(sql)

    def _marker(self) -> Path:
        return self.venv / ".sf-peer-pins"

    @staticmethod
    def _pins_digest() -> str:
        return hashlib.sha256("\n".join(PINNED_REQUIREMENTS).encode()).hexdigest()

    def _venv_complete(self) -> bool:
        """The venv finished an install of exactly these pins (the marker is written last)."""
        marker = self._marker()
        return (marker.is_file() and marker.read_text() == self._pins_digest()
                and (self.venv / "bin" / "python").exists() and (self.venv / "bin" / "gunicorn").exists())

    def _port_in_use(self) -> bool:
        with socket.socket() as sock:
            sock.settimeout(1)
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def _log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    @staticmethod
    def _run(cmd: list[str], what: str, *, cwd: Path | None = None, env: dict | None = None,
             timeout: float = 300) -> str:
        """Run cmd quietly; on failure raise with the tail of its output. Returns its stdout."""
        try:
            done = subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise PeerError(f"{what}: still running after {timeout:.0f} s") from exc
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-40:])
            raise PeerError(f"{what} failed with exit code {done.returncode}:\n{tail}")
        return done.stdout


# -- smoke check ----------------------------------------------------------------------------------

def smoke_check(peer: OscarPeer) -> None:
    """Send each of the three calls once, the way the load generator will (no client cookies)."""

    def send(method: str, path: str, headers: dict | None = None, body: str | None = None) -> httpx.Response:
        # a fresh client per request: no cookie jar carried from one call to the next
        with httpx.Client(base_url=peer.base_url, timeout=30) as client:
            return client.request(method, path, headers=headers, content=body)

    response = send("GET", peer.product_list_path())
    page = response.json() if response.status_code == 200 else {}
    results = page.get("results", [])
    print(f"  list     GET {peer.product_list_path()} -> {response.status_code}, "
          f"{len(results)} results, count {page.get('count')}")
    if response.status_code != 200 or len(results) != PAGE_SIZE or page.get("count") != peer.products:
        raise PeerError(f"product list: {response.status_code} {response.text[:500]}")

    path, headers, body = peer.add_to_basket()
    response = send("POST", path, headers, body)
    print(f"  add      POST {path} {body} -> {response.status_code}")
    if response.status_code not in (200, 201):
        raise PeerError(f"add to basket: {response.status_code} {response.text[:500]}")

    started = time.perf_counter()
    path, checkouts = peer.prepare_checkouts(3)
    print(f"  prepared 3 checkouts in {time.perf_counter() - started:.2f} s; body 0: {checkouts[0][1]}")
    before = peer.count_orders()
    for i, (headers, body) in enumerate(checkouts):
        response = send("POST", path, headers, body)
        number = response.json().get("number") if response.status_code in (200, 201) else None
        print(f"  checkout POST {path} #{i} -> {response.status_code}, order {number}")
        if response.status_code not in (200, 201):
            raise PeerError(f"checkout {i}: {response.status_code} {response.text[:500]}")
    after = peer.count_orders()
    print(f"  orders   {before} -> {after}")
    if after != before + len(checkouts):
        raise PeerError(f"expected {len(checkouts)} new orders, the database has {after - before}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/oscar-peer"))
    parser.add_argument("--port", type=int, default=8030)
    parser.add_argument("--server-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    peer = OscarPeer(args.workdir, server_url=args.server_url, port=args.port, products=args.products)
    timings: dict[str, float] = {}

    def timed(name: str, step) -> None:
        started = time.perf_counter()
        step()
        timings[name] = time.perf_counter() - started
        print(f"{name:<8} {timings[name]:7.2f} s")

    try:
        timed("install", peer.install)
        try:
            timed("setup", peer.setup)
            timed("start", peer.start)
            timed("smoke", lambda: smoke_check(peer))
        finally:
            timed("stop", peer.stop)
    except PeerError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    print("OK  " + "  ".join(f"{name} {seconds:.2f}s" for name, seconds in timings.items())
          + f"  (database {peer.db_name} dropped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
