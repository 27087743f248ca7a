# Everything sets itself up: a virtual environment in .venv with the package and test tools.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test template catalogue bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	rm -rf demo
	$(BIN)/salesreg demo demo

# The CRM example: import examples/data into ./example-crm and run sync, remind and summary.
.PHONY: example
example: $(STAMP)
	rm -rf example-crm
	$(BIN)/python examples/run_crm_example.py example-crm

test: $(STAMP)
	$(BIN)/python -m pytest

template: $(STAMP)
	$(BIN)/python scripts/build_template.py

# After changing a message in the code: refresh lib/salesreg/locale, then translate the empty entries.
catalogue: $(STAMP)
	$(BIN)/python scripts/update_catalogue.py

# Benchmarks on registers of 1,000, 10,000 and 50,000 deals; writes docs/benchmarks.md (about 10 minutes).
bench: $(STAMP)
	$(BIN)/python scripts/bench.py --sizes 1000,10000,50000 --runs 3 --out docs/benchmarks.md

clean:
	rm -rf $(VENV) demo example-crm .pytest_cache .hypothesis
