# Storefleet: `make run` and `make test` do all set-up on a fresh machine (Python 3.11, make and
# the system package manager are all they need).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export FLASK_APP := wsgi

.PHONY: run test bench install install-dev vendor node chromium nginx bench-tools clean

run: install vendor
	$(VENV)/bin/flask dev

test: install-dev vendor chromium nginx
	$(PY) -m pytest

# Storefleet side by side with its anchors (bench/compare.py; BENCH_ARGS passes options to it).
bench: install-dev vendor bench-tools
	$(PY) bench/compare.py $(BENCH_ARGS)

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

# htmx (and any front-end package) comes from the npm registry into the git-ignored static/vendor/.
vendor: static/vendor/htmx.min.js

static/vendor/htmx.min.js: package.json | node
	npm install --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js

node:
	@command -v npm >/dev/null || { apt-get update && apt-get install -y --no-install-recommends nodejs npm; }

# Browser tests drive Debian's Chromium; install it when it is missing.
chromium:
	@test -x /usr/bin/chromium || { apt-get update && apt-get install -y --no-install-recommends chromium; }

# The production set-up's buffering proxy (deploy/proxy), which the slow-client tests run.
nginx:
	@test -x /usr/sbin/nginx || { apt-get update && apt-get install -y --no-install-recommends nginx; }

# wrk drives the HTTP load of `make bench`; pgbench (PostgreSQL's client tools) gives its anchor.
bench-tools:
	@command -v wrk >/dev/null || { apt-get update && apt-get install -y --no-install-recommends wrk; }
	@command -v pgbench >/dev/null || { apt-get update && apt-get install -y --no-install-recommends postgresql-client; }

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache
