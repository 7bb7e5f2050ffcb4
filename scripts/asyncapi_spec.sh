#!/usr/bin/env bash
# The AsyncAPI 3.0 JSON Schema, to validate the AsyncAPI document the service generates
# (contracts/asyncapi.py). Taken from the npm registry's @asyncapi/specs package (Apache-2.0;
# its LICENSE stays beside it) into .run/asyncapi/, once; prints the schema file's path.
# Used by scripts/test.sh (tests/integration/test_asyncapi.py).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="6.11.1"
dir="$root/.run/asyncapi/$version"
schema="$dir/package/schemas/3.0.0-without-\$id.json"

if [[ ! -f "$schema" ]]; then
  command -v npm >/dev/null 2>&1 || { echo "asyncapi: npm is needed to fetch @asyncapi/specs" >&2; exit 3; }
  rm -rf "$dir" && mkdir -p "$dir"
  (cd "$dir" && npm pack --silent "@asyncapi/specs@$version" >/dev/null \
    && tar xzf "asyncapi-specs-$version.tgz" && rm "asyncapi-specs-$version.tgz")
  [[ -f "$schema" ]] || { echo "asyncapi: $schema missing after fetching" >&2; exit 3; }
fi
echo "$schema"
