# Every target builds .venv from nothing when it is missing, so a fresh clone needs only
# `make demo` or `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-all bench lint clean kernels

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# The kernels compiled ahead of time (numba.pycc, about 30 s; see src/fabthread/kernels/jit.py):
# rebuilt when a kernel source changes. A failed build is not fatal: the kernels then run JIT.
KERNEL_SRC := $(wildcard src/fabthread/*/kernels/*.py) $(wildcard src/fabthread/kernels/*.py)
AOT := src/fabthread/kernels/_aot.json

$(AOT): $(STAMP) $(KERNEL_SRC)
	$(BIN)/python -m fabthread.kernels.build || true

# Byte-code of the package, compiled ahead like the kernels: Python only reads .pyc files
# where PYTHONDONTWRITEBYTECODE is set (as on this machine), and compiling ~70 modules at
# every start costs a CLI run 0.17 s. compileall skips what is up to date.
kernels: $(AOT)
	$(BIN)/python -m compileall -q src/fabthread > /dev/null

demo: $(STAMP) kernels
	$(BIN)/fabthread demo --out out/demo

test: $(STAMP) kernels
	$(BIN)/pytest -q

test-all: $(STAMP) kernels
	$(BIN)/pytest -q -m ''

# Side-by-side benchmarks (see bench/README.md): slicer vs PrusaSlicer and CuraEngine,
# GEOS vs Clipper2 booleans, drop-cutter vs OpenCAMLib, job claims on SQLite/PostgreSQL.
bench: $(STAMP) kernels
	$(BIN)/pip install -q -e '.[dev,bench]'
	$(BIN)/python bench/run.py
	$(BIN)/python bench/polygon_ops.py
	$(BIN)/python bench/cam_bench.py
	$(BIN)/python bench/hub_bench.py

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/mypy src

clean:
	rm -rf $(VENV) out build *.egg-info src/*.egg-info src/fabthread/kernels/_aot*
