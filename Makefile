# Two commands for a fresh clone with Python 3.10+ and pip:
#   make demo   sample Auth0 tenant -> Meltano -> DuckDB -> dbt, twice, then the answers
#   make test   the whole test suite, PostgreSQL and the browser check included
# Installs are remembered by stamp files, so a second run starts at once.

PYTHON ?= python3
VENV := .venv
# Meltano gets a venv of its own: its pins stay out of the tap's test environment, and it
# installs each plugin into yet another venv under .meltano/ anyway.
MELTANO_VENV := .venv-meltano
MELTANO_VERSION := 4.4.1

DEV_STAMP := $(VENV)/.installed-dev
MELTANO_STAMP := $(MELTANO_VENV)/.installed-meltano-$(MELTANO_VERSION)
PIP_QUIET := --quiet --disable-pip-version-check

export MELTANO := $(abspath $(MELTANO_VENV)/bin/meltano)
export MELTANO_CLI_DISABLE_VERSION_CHECK := true
export MELTANO_SEND_ANONYMOUS_USAGE_STATS := false

# Debian's own python3 needs the python3-venv package for `python3 -m venv`.
define make_venv
	test -x $(1)/bin/pip || $(PYTHON) -m venv --clear $(1) \
		|| { scripts/apt-install.sh python3-venv && $(PYTHON) -m venv --clear $(1); }
endef

.PHONY: help test demo install postgresql chromium lint clean bench dist

help:
	@echo "make demo   run the pipeline against a local sample tenant (or a real one) into DuckDB,"
	@echo "            build the analytics models and write output/report.html"
	@echo "make test   install what the tests need (PostgreSQL too) and run the whole suite"
	@echo "make lint   ruff check, format check and mypy --strict (make test runs it first)"
	@echo "make dist   build the wheel and sdist into dist/ and check them with twine"
	@echo "make clean  remove the venvs, .meltano/, output/ and dist/"

test: install postgresql chromium lint
	$(VENV)/bin/python -m pytest tests

demo: install
	$(VENV)/bin/python scripts/demo.py

bench: install
	$(VENV)/bin/python -m benchmarks

install: $(DEV_STAMP) $(MELTANO_STAMP)

# Reinstalled whenever pyproject.toml changes. pip 25.1 or newer understands --group.
$(DEV_STAMP): pyproject.toml
	$(call make_venv,$(VENV))
	$(VENV)/bin/python -m pip install $(PIP_QUIET) --upgrade "pip>=25.1"
	$(VENV)/bin/python -m pip install $(PIP_QUIET) -e . --group dev
	touch $@

$(MELTANO_STAMP):
	$(call make_venv,$(MELTANO_VENV))
	$(MELTANO_VENV)/bin/python -m pip install $(PIP_QUIET) --upgrade pip
	$(MELTANO_VENV)/bin/python -m pip install $(PIP_QUIET) "meltano==$(MELTANO_VERSION)"
	touch $@

# The end-to-end tests start a throwaway cluster of their own; they need only the binaries.
postgresql:
	@scripts/ensure-postgresql.sh

# The report test renders the analytics report in Debian's chromium, headless.
chromium:
	@scripts/ensure-chromium.sh

# Lint and types first: a finding fails `make test` before the suite starts.
lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# The release: what `pip install tap-auth0-userlogs` and Meltano Hub users get, built in an
# isolated environment from pyproject.toml (hatchling), its metadata checked as PyPI would.
dist: $(DEV_STAMP)
	rm -rf dist
	$(VENV)/bin/python -m build --outdir dist .
	$(VENV)/bin/twine check --strict dist/*

clean:
	rm -rf $(VENV) $(MELTANO_VENV) .meltano output dist transform/target transform/logs
