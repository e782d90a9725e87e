# kehu: `make run` sets everything up and serves; `make test` sets everything up and tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENDOR := src/kehu/static/vendor
export KEHU_DATA_DIR ?= $(CURDIR)/data

.PHONY: run setup test test-sqlite test-postgres lint messages clean

run: setup
	$(BIN)/kehu serve

setup: $(VENV)/.installed $(VENDOR)/.copied src/kehu/locale/zh_Hans/LC_MESSAGES/django.mo

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv==0.13.8
	$(BIN)/uv pip sync -q --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	touch $@

frontend/node_modules/.package-lock.json: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error

$(VENDOR)/.copied: frontend/node_modules/.package-lock.json
	mkdir -p $(VENDOR)
	cp frontend/node_modules/htmx.org/dist/htmx.min.js \
	   frontend/node_modules/htmx-ext-sse/dist/sse.min.js \
	   frontend/node_modules/@picocss/pico/css/pico.min.css \
	   frontend/node_modules/echarts/dist/echarts.min.js $(VENDOR)/
	touch $@

src/kehu/locale/zh_Hans/LC_MESSAGES/django.mo: src/kehu/locale/zh_Hans/LC_MESSAGES/django.po $(VENV)/.installed
	cd src/kehu && ../../$(BIN)/django-admin compilemessages --settings=kehu.config.settings -l zh_Hans

# Runs the suite on SQLite, then on PostgreSQL when KEHU_TEST_POSTGRES_URL names a
# server; browser tests drive /usr/bin/chromium.
test: setup
	$(BIN)/python tests/run_all.py

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

# Refresh the translation catalogue after changing user-facing strings.
messages: setup
	cd src/kehu && ../../$(BIN)/django-admin makemessages --settings=kehu.config.settings -l zh_Hans --no-obsolete --no-location

clean:
	rm -rf $(VENV) frontend/node_modules $(VENDOR) .test-data
