#!/usr/bin/env bash
# Run Prometheus's `promtool` without installing or starting a Prometheus: the promtool on
# the PATH if there is one, else the one of the Debian 12 package `prometheus` (2.42),
# fetched with `apt-get download` (no root) and unpacked under .run/promtool/ — never
# `apt-get install`, which would enable the package's service on a machine with systemd.
# Used by tests/integration/test_monitoring.py to check docker/prometheus/prometheus.yml
# and the Grafana dashboard's PromQL.
#   scripts/promtool.sh check config docker/prometheus/prometheus.yml
# Exit: promtool's own, or 3 when promtool cannot be had.
set -euo pipefail

if command -v promtool >/dev/null 2>&1; then
  exec promtool "$@"
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="$root/.run/promtool"
tool="$cache/usr/bin/promtool"
if [[ ! -x "$tool" ]]; then
  command -v apt-get >/dev/null 2>&1 || { echo "error: no promtool and no apt-get" >&2; exit 3; }
  echo "promtool not found; unpacking it from the Debian package prometheus" >&2
  download="$(mktemp -d)"
  trap 'rm -rf "$download"' EXIT
  (cd "$download" && apt-get download -qq prometheus >&2) || {
    echo "error: apt-get download prometheus failed (run apt-get update?)" >&2
    exit 3
  }
  mkdir -p "$cache"
  dpkg-deb -x "$download"/prometheus_*.deb "$cache" || exit 3
fi
exec "$tool" "$@"
