# The two commands of the quick start: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench ig system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

# Debian packages the tests use for real components: PostgreSQL for the hosted mode and
# Chromium for the browser checks of the HTML pages. Installed only where missing.
system-deps:
	@bash scripts/system-deps.sh

demo: $(STAMP)
	$(BIN)/sandkasse demo --out out/demo

test: $(STAMP) system-deps
	$(BIN)/python -m pytest -n 2 --dist loadgroup

bench: $(STAMP)
	$(BIN)/python -m bench.run --out out/bench

# Rebuild the implementation guide's committed package from its FSH sources (needs Node and npm).
ig:
	bash conformance/ig/tools/build.sh

clean:
	rm -rf $(VENV) out .pytest_cache
