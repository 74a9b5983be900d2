# Quick start: `make run` (the service on SQLite, web on localhost, Telegram when a
# token is set) and `make test`. Both create the virtualenv and install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# `make run` installs the service with the semantic extra (sentence embeddings for
# better themes, on the CPU build of torch); `make test` adds the dev tools to it.
# Each stamp records what its target installed, so run never pulls in the dev tools.
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test test-slow lint typecheck check bench clean messages

$(BIN)/pip:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/pip
	$(BIN)/pip install --quiet -e '.[semantic]'
	touch $(RUN_STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/pip
	$(BIN)/pip install --quiet -e '.[semantic,dev]'
	touch $(TEST_STAMP) $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/needsfirst run

# One pytest worker per core (pytest-xdist); a worker that runs out of tests takes some of
# another's. `pytest -q` alone runs them one after another. The long end-to-end runs
# (processes killed and restarted, hundreds of residents, the mutation check) are marked
# slow: `make test-slow` runs them, and CI runs both.
test: $(TEST_STAMP)
	$(BIN)/pytest -q -n auto --dist worksteal -m "not slow"

test-slow: $(TEST_STAMP)
	$(BIN)/pytest -q -n auto --dist worksteal -m slow

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

check: lint typecheck test

# The interface's words (docs/translating.md): gather the English from the code and the
# public pages into the template, then bring every language's PO file up to date (a
# message whose English changed is marked fuzzy, with its previous English beside it).
LOCALE := conversations/locale
BABEL_KEYWORDS := -k N_ -k NP_:1c,2 -k NN_:1,2 -k _ -k gettext -k ngettext:1,2 -k pgettext:1c,2 -k npgettext:1c,2,3
messages: $(TEST_STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-default-keywords $(BABEL_KEYWORDS) \
		--add-location=file --sort-by-file --add-comments=Translators: \
		--project="Needs First" --copyright-holder="Needs First contributors" \
		-o $(LOCALE)/needsfirst.pot .
	$(BIN)/pybabel update -i $(LOCALE)/needsfirst.pot -d $(LOCALE) -D needsfirst \
		--previous --ignore-obsolete

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts
