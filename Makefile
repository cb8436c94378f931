# The two commands of the README: `make demo` and `make test`. Both set up .venv if needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.tfgrade-installed

.PHONY: demo test lint typecheck clean setup

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[tf,test,dask]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/make_sample_class.py build/sample_class
	$(BIN)/tfgrade grade build/sample_class --out demo-out --lang en --course examples/sample_course.toml \
		--submission-times examples/sample_times.csv --overrides examples/sample_overrides.csv
	@echo "Reports: demo-out/index.html · gradebook: demo-out/gradebook.csv"

test: $(STAMP)
	$(BIN)/ruff check tfgrade grader tests exercises solutions examples
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check tfgrade grader tests exercises solutions examples
	$(BIN)/mypy

clean:
	rm -rf $(VENV) demo-out build dist test-artifacts
