# The two commands a newcomer needs are `make run` and `make test` (see README.md).
.PHONY: run test lint format unit services-up services-down clean

run:
	@bash scripts/venv.sh run
	@mkdir -p var
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

# `make bench`: the ingest benchmark (docs/BENCHMARKS.md). Starts Kafka and PostgreSQL if
# they are not running, stops only what it started. BENCH_ARGS go to python -m bench.ingest
# (e.g. make bench BENCH_ARGS="--events 50000 --profile /tmp/ingest.prof").
.PHONY: bench
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
	  .venv/bin/python -m bench.ingest $(BENCH_ARGS) && \
	.venv/bin/python -m bench.readside $(READSIDE_ARGS)
