# The commands a person types. Each one builds .venv from the lock file when it is missing.
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/var/dagster_home
export DISABLE_PANDERA_IMPORT_WARNING := True

.PHONY: demo test lint ui serve lock clean browser

# The install compiles the C parts in place (src/lettrage/recon/matching/*.c: the exact stage's join, text
# columns read from Arrow's buffers).
$(STAMP): pyproject.toml setup.py requirements.lock $(wildcard src/lettrage/recon/matching/*.c)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/lettrage demo

test: $(STAMP) browser
	$(BIN)/ruff check src tests
	$(BIN)/python -m pytest

# Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium; it never downloads a browser).
browser:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium chromium-driver)

lint: $(STAMP)
	$(BIN)/ruff check src tests

# The Dagster UI over the same instance as `make demo` (var/dagster_home), on 127.0.0.1:3000.
ui: $(STAMP)
	mkdir -p $(DAGSTER_HOME) && cp deploy/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

# The payment service (guests' links, PSP notifications, SMS callbacks, dashboard) on 127.0.0.1:8000;
# `lettrage psp-simulator` in another terminal plays the PSP (Ogone protocol) on 127.0.0.1:8010.
serve: $(STAMP)
	$(BIN)/lettrage serve

# Re-resolve the dependencies of pyproject.toml into requirements.lock (run by a developer, committed).
lock:
	rm -rf /tmp/lettrage-lock && $(PYTHON) -m venv /tmp/lettrage-lock
	/tmp/lettrage-lock/bin/pip install --quiet -e '.[test]'
	/tmp/lettrage-lock/bin/pip freeze --exclude-editable | grep -v '^lettrage' > requirements.lock

clean:
	rm -rf $(VENV) var build src/lettrage/recon/matching/_*.so
