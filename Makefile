# handover — one task runner. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
PYTEST_WORKERS ?= 2

.DEFAULT_GOAL := help
.PHONY: help install deps-system demo test lint format bench deps-bench docs clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt src/handover/crypto/_hmac_many.c src/handover/migrate/_polyhash.c src/handover/db/_sqlite_arrow.c src/handover/verify/_rowtext.c src/handover/db/_mysql_rows.c src/handover/db/_pgcopy.c src/handover/crypto/_tree.c src/handover/ledger/_frames.c src/handover/ledger/_events.c
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

$(BENCH_STAMP): $(STAMP)
	$(PIP) install -q -c constraints.txt -e '.[dev,bench]'
	touch $(BENCH_STAMP)

install: $(STAMP) ## create .venv and install handover with pinned dependencies

# System packages the tests use for real: SoftHSM2 (PKCS#11 HSM), Debian's chromium (the
# console's browser tests; Playwright's own browser download is not used), the Chinese font
# embedded in notice letters and announcements and shown in zh-CN screenshots
# (fonts-wqy-microhei), poppler-utils (pdffonts, pdftotext, pdftoppm check those PDFs), gcc
# and libssl-dev (the install builds handover.crypto._hmac_many, the tokens' HMACs in C),
# libsqlite3-dev (handover.db._sqlite_arrow, SQLite read into Arrow in C); gcc alone builds
# handover.migrate._polyhash and handover.verify._rowtext.
# Installed when apt-get is there and we are root (CI); otherwise says what to install and
# carries on (the tests skip, fail under CI=true).
SYSTEM_PACKAGES := softhsm2 chromium fonts-wqy-microhei poppler-utils gcc libssl-dev libsqlite3-dev
deps-system: ## install system packages the tests need (softhsm2, chromium, fonts, poppler; gcc with OpenSSL's and SQLite's headers for the C modules) when root with apt-get
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -z "$$missing" ]; then \
		echo "deps-system: $(SYSTEM_PACKAGES) present"; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) \
		|| echo "deps-system: apt-get install $$missing failed; their tests will skip (fail under CI=true)"; \
	else \
		echo "deps-system: not root or no apt-get; install $$missing yourself for their tests"; \
	fi

demo: $(STAMP) ## run the whole handover on synthetic data in ./handover-data (SQLite only)
	$(VENV)/bin/handover --workspace handover-data demo

test: $(STAMP) ## run the test suite (uses PostgreSQL/MariaDB when present)
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: $(STAMP) ## ruff (lint + format check) and mypy strict on src/
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

format: $(STAMP) ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix src tests bench
	$(VENV)/bin/ruff format src tests bench

deps-bench: ## system packages the benchmarks' peers need (Debian: pgloader, sqlite3-tools, time)
	command -v pgloader >/dev/null || apt-get install -y pgloader
	command -v sqldiff >/dev/null || apt-get install -y sqlite3-tools
	test -x /usr/bin/time || apt-get install -y time

bench: $(BENCH_STAMP) deps-bench ## benchmarks against the peers; prints ratios (see docs/benchmarks.md)
	$(PY) -m bench $(BENCH_ARGS)

docs: $(STAMP) ## regenerate docs/cli.md from --help
	$(PY) -m handover.cli.docgen > docs/cli.md

clean: ## remove the venv, caches and the demo workspace
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache handover-data src/handover/crypto/_hmac_many.*.so src/handover/migrate/_polyhash.*.so src/handover/db/_sqlite_arrow.*.so src/handover/verify/_rowtext.*.so src/handover/db/_mysql_rows.*.so src/handover/db/_pgcopy.*.so src/handover/crypto/_tree.*.so src/handover/ledger/_frames.*.so src/handover/ledger/_events.*.so build
