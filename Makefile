# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(VENV)/bin/pip
PORT   ?= 5000
STAMP   = $(VENV)/.installed

.PHONY: demo test install bench clean translations lint

$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed (no python3.11 or python3 found); set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(STAMP): $(VENV)/bin/python setup.cfg pyproject.toml
	$(PIP) install -q -e '.[test,bench]'
	$(MAKE) translations
	touch $(STAMP)

install: $(STAMP)

translations: $(VENV)/bin/python
	$(VENV)/bin/pybabel compile -f -d fieldsvc/translations -D messages >/dev/null

demo: install
	PORT=$(PORT) $(VENV)/bin/fieldsvc demo --port $(PORT)

# The whole suite in parallel (one database per worker); `PYTEST_ARGS="-m 'not slow and not browser'"`
# for a quick run while working. System packages (Chromium, LibreOffice) come from scripts/system-deps.sh.
test: install
	bash scripts/system-deps.sh
	$(VENV)/bin/ruff check fieldsvc tests scripts data
	$(VENV)/bin/pytest -n auto $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check fieldsvc tests scripts data

bench: install
	$(VENV)/bin/fieldsvc bench solomon --time-limit 10

clean:
	rm -rf $(VENV) var build *.egg-info
