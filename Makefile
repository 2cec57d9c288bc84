# Two contracts: `make run` and `make test`. Each sets up what is missing first.
PY ?= python3
VENV := .venv
PORT ?= 8501
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint bench messages

$(STAMP): requirements.txt requirements-nodeps.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -r requirements-nodeps.txt
	touch $@

$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

run: $(STAMP)
	cd $(CURDIR) && $(BIN)/python -m ui.serve --server.port $(PORT)

test: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: $(DEV_STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# The message catalogues: extract every marked string (babel.cfg), merge it into each language's .po; then
# translate the new entries (msgstr) in ui/locales/<lang>/LC_MESSAGES/messages.po. tests/app/test_i18n.py fails
# on any entry left untranslated.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --omit-header -o ui/locales/messages.pot .
	$(BIN)/pybabel update -i ui/locales/messages.pot -d ui/locales -D messages --no-fuzzy-matching --ignore-obsolete

bench: $(STAMP)
	$(BIN)/python -m benchmarks.perturbed_masking
