# interviewd: the two commands of the quick start are `make demo` and `make test`.
# Each creates .venv when missing and installs what it needs.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_UPDATED := /tmp/.interviewd-apt-updated

.PHONY: demo test lint bench model sample-config system-deps clean help

help:
	@echo "make demo   - sync the sample Maildir in examples/ and show what interviewd found"
	@echo "make test   - install the test servers (Dovecot, PostgreSQL) and run every test"
	@echo "make bench  - benchmarks (results in bench/results.json)"
	@echo "make model  - retrain the shipped classifier from the corpus"
	@echo "make lint   - ruff"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Debian packages the tests need: a real IMAP server and a real PostgreSQL.
system-deps:
	@if ! command -v dovecot >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
		|| ! command -v dbus-daemon >/dev/null 2>&1 || ! command -v notify-send >/dev/null 2>&1 \
		|| ! command -v systemd-analyze >/dev/null 2>&1 || ! test -x /usr/bin/chromium; then \
		echo "installing the test servers and tools from Debian's packages"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
			dovecot-imapd postgresql dbus-daemon libnotify-bin systemd chromium >/dev/null; \
	fi
	@# The packages' own services are not used: the tests start private instances.

# The demo's clock: a time at which the sample mailbox shows a thank-you due, a check-in
# due (a promised date passed), a rejection closed and an offer.
DEMO_AT := 2026-11-10 10:30
DEMO := XDG_DATA_HOME=$(CURDIR)/.demo $(BIN)/interviewd --log-level warning --config examples/interviewd.yaml

demo: $(STAMP)
	@rm -rf .demo
	@echo "== interviewd sync --once   (examples/maildir, SQLite in .demo/)"
	@$(DEMO) sync --once
	@echo
	@echo "== interviewd messages   (class and confidence; '?' = needs review, '-' = your own mail)"
	@$(DEMO) messages --limit 50
	@echo
	@echo "== interviewd interviews --at '$(DEMO_AT)'"
	@$(DEMO) interviews --at '$(DEMO_AT)'
	@echo
	@echo "== interviewd followups --at '$(DEMO_AT)'"
	@$(DEMO) followups --at '$(DEMO_AT)'
	@echo
	@echo "== interviewd alerts preview --at '$(DEMO_AT)'   (nothing is sent)"
	@$(DEMO) alerts preview --at '$(DEMO_AT)'

test: $(STAMP) system-deps
	$(BIN)/ruff check src tests
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

bench: $(STAMP) system-deps
	$(BIN)/python bench/run.py

model: $(STAMP)
	$(BIN)/interviewd model train

sample-config: $(STAMP)
	$(BIN)/interviewd config > config/interviewd.example.yaml

clean:
	rm -rf .demo .pytest_cache bench/results.json
