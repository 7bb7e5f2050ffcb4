#!/usr/bin/env bash
# `make test`: installs what the suite needs, starts a real Kafka broker and a real
# PostgreSQL on loopback, runs the whole suite, and stops what it started.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/unit -x).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/venv.sh dev
export PYTHON="$PWD/.venv/bin/python"

started=()
stop_started() {
  for service in "${started[@]}"; do
    bash "scripts/$service.sh" stop >&2 || true
  done
}
trap stop_started EXIT

# Tools the tests call: the console's browser tests drive Debian's headless Chromium.
JOURNEY_TEST_CHROMEDRIVER="$(bash scripts/chromium.sh)"
export JOURNEY_TEST_CHROMEDRIVER
bash scripts/validate_compose.sh >/dev/null
JOURNEY_TEST_ASYNCAPI_SCHEMA="$(bash scripts/asyncapi_spec.sh)"
export JOURNEY_TEST_ASYNCAPI_SCHEMA

if ! bash scripts/kafka.sh status >/dev/null 2>&1; then
  bash scripts/kafka.sh start >&2
  started+=(kafka)
fi
JOURNEY_TEST_KAFKA="$(bash scripts/kafka.sh status)"
export JOURNEY_TEST_KAFKA
export JOURNEY_TEST_KAFKA_LOG="$(bash scripts/kafka.sh logfile)"

if ! bash scripts/postgres.sh status >/dev/null 2>&1; then
  started+=(postgres)
fi
eval "$(bash scripts/postgres.sh start)"
export JOURNEY_TEST_POSTGRES_HOST JOURNEY_TEST_POSTGRES_PORT JOURNEY_TEST_POSTGRES_DB \
  JOURNEY_TEST_POSTGRES_USER JOURNEY_TEST_POSTGRES_PASSWORD

set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "test: pytest collected no tests; that is a failure" >&2
  status=1
fi
if [ "$status" -ne 0 ] && [ -f "$JOURNEY_TEST_KAFKA_LOG" ]; then
  echo "--- last lines of the Kafka broker log ($JOURNEY_TEST_KAFKA_LOG)" >&2
  tail -n 30 "$JOURNEY_TEST_KAFKA_LOG" >&2
fi
exit "$status"
