# Fengqiao — `make run` and `make test` set everything up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: deb run test test-unit test-integration bench eval lint schemas postgres clean chaos

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

## The embedded default: Tansu broker, SQLite under ./var, the worker and a demo feed.
run: $(STAMP)
	$(BIN)/fengqiao run

## Every test the default suite has: unit, import contracts, integration (Tansu + PostgreSQL + SQLite).
test: $(STAMP) postgres deb lint
	FENGQIAO_TEST_PG_URL=$(PG_URL) $(BIN)/pytest -q -p no:cacheprovider --durations=30

test-unit: $(STAMP)
	$(BIN)/pytest -q -p no:cacheprovider tests/unit

test-integration: $(STAMP) postgres
	FENGQIAO_TEST_PG_URL=$(PG_URL) $(BIN)/pytest -q -p no:cacheprovider tests/integration

## Figures, not pass/fail tests: offline routing rate on 100,000 records; the sweep among
## 1,000,000 pending timers in PostgreSQL; sweep lateness while a worker ingests 500/s; saturation: the
## rate one and two workers drain a 20,000-record backlog at, beside a bare baseline, with a py-spy profile;
## what a 16 MiB login body costs the API beside a plain refused request.
bench: $(STAMP) postgres
	$(BIN)/python -m bench.routing --records 100000
	FENGQIAO_TEST_PG_URL=$(PG_URL) $(BIN)/python -m bench.sweep --pending 1000000
	FENGQIAO_TEST_PG_URL=$(PG_URL) $(BIN)/python -m bench.lateness --rate 500 --seconds 40
	FENGQIAO_TEST_PG_URL=$(PG_URL) $(BIN)/python -m bench.saturation --records 20000
	FENGQIAO_TEST_PG_URL=$(PG_URL) $(BIN)/python -m bench.limits --rounds 40
	FENGQIAO_TEST_PG_URL=$(PG_URL) $(BIN)/python -m bench.cockpit

## Fault injection, not in `make test`: per seed two workers, kills, outages, a paused broker; the checker's table.
SEEDS ?= 1 2 3
CHAOS_SECONDS ?= 120
CHAOS_SIZE ?= 3000
chaos: $(STAMP) postgres
	FENGQIAO_TEST_PG_URL=$(PG_URL) $(BIN)/python -m tests.chaos --seed $(SEEDS) --seconds $(CHAOS_SECONDS) \
	  --size $(CHAOS_SIZE)

## Routing judgement, printed (docs/evaluation.md): the bundle's own labelled cases, the feed generator's
## ground truth, and every file of ../shared/data/real_texts/ when it is there. Figures, not pass/fail.
## Generated and real texts are Chinese: for a bundle the generator has no texts for (exit 3), own cases only.
REAL_TEXTS ?= ../shared/data/real_texts
BUNDLE ?= jurisdictions/xiaoshan
eval: $(STAMP)
	mkdir -p var/eval
	status=0; $(BIN)/fengqiao cases generate -j $(BUNDLE) --count 20000 --seed 1 > var/eval/generated.jsonl \
	  || status=$$?; \
	if [ $$status = 0 ]; then more="var/eval/generated.jsonl $(wildcard $(REAL_TEXTS)/*.jsonl)"; \
	elif [ $$status = 3 ]; then more=""; rm -f var/eval/generated.jsonl; \
	  echo "make eval: $(BUNDLE)'s own labelled cases only, without $(REAL_TEXTS) (docs/evaluation.md)" >&2; \
	else exit $$status; fi; \
	$(BIN)/fengqiao eval -j $(BUNDLE) $(wildcard $(BUNDLE)/cases/*.jsonl) $$more

## Style (ruff) and the import contracts that keep the core pure (import-linter).
lint: $(STAMP)
	$(BIN)/ruff check router schemas workers api tests bench jurisdictions/tools
	$(BIN)/lint-imports --no-cache

## JSON Schemas of the wire contracts and the HTTP API's OpenAPI document, for integrators.
schemas: $(STAMP)
	$(BIN)/fengqiao schema export docs/schemas
	$(BIN)/fengqiao schema openapi docs/openapi.json

## From Debian's packages (CI runs as root): Prometheus and promtool for the alert-rule and scrape
## tests, Chromium and a CJK font for the console's browser tests (Playwright drives /usr/bin/chromium).
deb:
	@command -v promtool >/dev/null && test -x /usr/bin/prometheus && test -x /usr/bin/chromium \
	  && test -d /usr/share/fonts/opentype/noto || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq prometheus chromium fonts-noto-cjk >/dev/null; }

## Start the local PostgreSQL cluster when it is not accepting connections (CI machines, restarts).
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start && \
	  for i in $$(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; }

clean:
	rm -rf $(VENV) var build *.egg-info
