# The two commands a newcomer needs are `make run` and `make test` (see README.md).
.PHONY: run test lint format unit services-up services-down clean

run:
	@bash scripts/venv.sh run
	@mkdir -p var
	@echo "The CLI: .venv/bin/journey (or 'source .venv/bin/activate', then journey). To publish"
	@echo "simulated journeys to this service (from any folder with --url), with the channel key printed below:"
	@echo "  .venv/bin/journey simulate --url http://127.0.0.1:8000 --key <channel key> --customers 50 --days 30 --seed 1"
	@echo "(Keys are printed on the first start only; later, in this folder: .venv/bin/journey keys create --role channel)"
	@echo "The console: open http://127.0.0.1:8000/ and paste the analyst, auditor or admin key printed below."
	.venv/bin/journey serve

test:
	@bash scripts/test.sh

unit:
	@bash scripts/venv.sh dev
	.venv/bin/python -m pytest tests/unit

lint:
	@bash scripts/venv.sh dev
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/lint-imports

format:
	@bash scripts/venv.sh dev
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

services-up:
	@bash scripts/venv.sh dev
	PYTHON=.venv/bin/python bash scripts/kafka.sh start
	bash scripts/postgres.sh start

services-down:
	-bash scripts/kafka.sh stop
	-bash scripts/postgres.sh stop

clean: services-down
	rm -rf .venv .run var .pytest_cache .mypy_cache .ruff_cache

# `make bench`: the benchmark suite (docs/BENCHMARKS.md): ingest, HTTP publish, read side,
# HTTP queries, then one summary; < 30 minutes on the 2-core host. Starts Kafka and
# PostgreSQL if they are not running, stops only what it started. INGEST_ARGS (or
# BENCH_ARGS) go to bench.ingest, HTTP_ARGS to bench.http_publish, READSIDE_ARGS to
# bench.readside, QUERIES_ARGS to bench.http_queries (GET through the API beside in
# process), CFPB_ARGS to bench.cfpb_import (journey import cfpb until caught up), SUITE_ARGS to bench.suite (e.g. SUITE_ARGS="--only http"). `make bench-long`:
# ingest and HTTP publish at 1M events too (≈ 1.5 hours).
INGEST_ARGS ?= --sizes 100000
HTTP_ARGS ?= --sizes 100000
READSIDE_ARGS ?=
QUERIES_ARGS ?=
CFPB_ARGS ?=
SUITE_ARGS ?=
.PHONY: bench bench-long
bench:
	@bash scripts/venv.sh dev
	@started=""; \
	trap 'for s in $$started; do bash scripts/$$s.sh stop >&2 || true; done' EXIT; \
	if ! bash scripts/kafka.sh status >/dev/null 2>&1; then \
	  started="kafka"; PYTHON=.venv/bin/python bash scripts/kafka.sh start >&2 || exit 1; \
	fi; \
	if ! bash scripts/postgres.sh status >/dev/null 2>&1; then started="$$started postgres"; fi; \
	eval "$$(bash scripts/postgres.sh start)" || exit 1; \
	JOURNEY_TEST_KAFKA="$$(bash scripts/kafka.sh status)" \
	  .venv/bin/python -m bench.suite $(SUITE_ARGS) \
	    --ingest-args "$(INGEST_ARGS) $(BENCH_ARGS)" --http-args "$(HTTP_ARGS)" \
	    --readside-args "$(READSIDE_ARGS)" --queries-args "$(QUERIES_ARGS)" \
	    --cfpb-args "$(CFPB_ARGS)"

bench-long:
	@$(MAKE) --no-print-directory bench INGEST_ARGS="--sizes 100000,1000000 --timeout 3600" \
	  HTTP_ARGS="--sizes 100000,1000000" SUITE_ARGS="--budget 120 $(SUITE_ARGS)"
