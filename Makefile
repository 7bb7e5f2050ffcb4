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
