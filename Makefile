# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Every step sees it (`flask demo load` mails links too): the app's default hosts carry this port.
export PORT
export FLASK_APP := wsgi
TRANSLATIONS := shared/translations
SOURCES := config tenants shared vendor_console customer_portal wsgi.py

.PHONY: run test install install-test migrate demo serve translations compile-translations lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installs again only when a requirements file changed.
$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements.txt requirements-test.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@

install: $(VENV)/.installed compile-translations
install-test: $(VENV)/.installed-test compile-translations

compile-translations: $(VENV)/.installed
	$(BIN)/pybabel --quiet compile -d $(TRANSLATIONS)

migrate: install
	$(BIN)/flask db upgrade

demo: migrate
	$(BIN)/flask demo load

run: demo
	@echo ""
	@echo "  Vendor console:  http://localhost:$(PORT)        (sign in: owner@acme.test / demo-password-1)"
	@echo "  Demo portal:     http://acme.localhost:$(PORT)"
	@echo "    payer sign-ins: billing@harborview.test / demo-payer-harbor (business admin)"
	@echo "                    frontdesk@harborview.test / demo-payer-frontdesk (business colleague)"
	@echo "                    maria.gonzalez@example.test / demo-payer-maria (personal, Spanish)"
	@echo "    guest lookup:   invoice number 400101, invoice total 18,475.20"
	@echo "  (Chromium and Firefox resolve *.localhost to this machine; with curl, send a Host header.)"
	@echo "  Jobs process:    flask jobs run, beside the web server (scheduled payments, email); Ctrl-C stops both"
	@echo ""
	@# The jobs process runs apart from gunicorn (never inside a worker); the trap stops it when
	@# the web server ends, whichever way (a background job of this shell ignores Ctrl-C itself).
	@$(BIN)/flask jobs run & jobs=$$!; \
	trap 'kill $$jobs 2>/dev/null; wait $$jobs 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn -c config/gunicorn.conf.py "wsgi:create_app()"

test: install-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff format --check .

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Extract every translatable string, merge it into the catalogues, compile them.
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		-o $(TRANSLATIONS)/messages.pot $(SOURCES)
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching
	$(BIN)/pybabel compile -d $(TRANSLATIONS)

bench: install-test
	$(BIN)/python -m bench
	$(BIN)/python -m bench.ach
	$(BIN)/python -m bench.jobs

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
