# The two commands the README promises: `make demo` and `make test`. Both install what they need.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PY_STAMP   := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: install test lint demo serve emulator bench clean

install: $(PY_STAMP) $(NODE_STAMP)

$(PY_STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# Azurite, pinned in package-lock.json (3.35.0 still runs on Node 20).
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

lint: $(PY_STAMP)
	$(BIN)/ruff check .

test: install lint
	$(BIN)/python -m pytest

demo: install
	$(BIN)/python -m localdev.demo

# The Function App on http://127.0.0.1:7071/api (HTTP routes + queue worker) against the emulator
# and Azurite; prints the function key and curl examples. Ctrl-C stops it.
serve: install
	$(BIN)/python -m localdev.serve

# The Dataverse emulator on its own, for poking at it with curl or pointing `python -m functions` at it.
# Depends on install (not only the venv): the README's hand section then runs the pinned Azurite.
EMULATOR_PORT ?= 5555
EMULATOR_CONTACTS ?= 2000
EMULATOR_SEED ?= 1
emulator: install
	$(BIN)/python -m dataverse_emulator --port $(EMULATOR_PORT) --contacts $(EMULATOR_CONTACTS) --seed $(EMULATOR_SEED)

bench: install
	$(BIN)/python benchmarks/stream_contacts.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache
