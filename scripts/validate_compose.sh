#!/usr/bin/env bash
# Validate a compose file WITHOUT a Docker engine.
#   scripts/validate_compose.sh [compose-file]     (default: docker/compose.yaml)
# Tool: `docker-compose config -q` (Debian 12 package docker-compose 1.29.2), which checks the
# file against the compose-spec JSON schema and performs ${VAR:?}/${VAR:-} interpolation.
# It is installed with apt-get when absent. Checks:
#   1. valid with a dummy value for every required ${VAR:?...}, and no unset-variable warnings;
#   2. invalid whenever one of those required variables is unset.
# Exit: 0 valid, 1 invalid, 3 validator unavailable.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
file="$(realpath "${1:-$root/docker/compose.yaml}")"
[[ -f "$file" ]] || { echo "error: no such file: $file" >&2; exit 1; }

if ! command -v docker-compose >/dev/null 2>&1; then
  echo "docker-compose not found; installing the Debian package" >&2
  sudo=""
  if [[ "$(id -u)" -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { echo "error: need root or sudo to install" >&2; exit 3; }
    sudo="sudo"
  fi
  command -v apt-get >/dev/null 2>&1 || { echo "error: no apt-get; install docker-compose >= 1.29" >&2; exit 3; }
  $sudo apt-get update -qq >&2 || exit 3
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    docker-compose >&2 || exit 3
fi

# Required variables: every ${NAME:?...} / ${NAME?...} in the file.
mapfile -t required < <(grep -oE '\$\{[A-Za-z_][A-Za-z0-9_]*:?\?' "$file" \
  | sed -E 's/^\$\{//; s/:?\?$//' | sort -u)
if [[ ${#required[@]} -eq 0 ]]; then
  echo "error: $file declares no required \${VAR:?message} variable" >&2
  exit 1
fi

# Empty env file: ignore any .env next to the compose file so results are reproducible.
empty_env="$(mktemp)"
trap 'rm -f "$empty_env"' EXIT
dummies=()
for v in "${required[@]}"; do dummies+=("$v=validate"); done

compose_config() {  # extra env assignments as arguments; prints diagnostics, returns rc
  env -u COMPOSE_FILE "$@" docker-compose --env-file "$empty_env" -f "$file" config -q 2>&1
}

if ! out="$(compose_config "${dummies[@]}")"; then
  printf '%s\n' "$out" >&2
  echo "INVALID: $file" >&2
  exit 1
fi
if grep -q 'variable is not set' <<<"$out"; then
  printf '%s\n' "$out" >&2
  echo "INVALID: $file uses variables that are neither set nor defaulted" >&2
  exit 1
fi

for v in "${required[@]}"; do
  others=()
  for d in "${dummies[@]}"; do [[ "$d" == "$v="* ]] || others+=("$d"); done
  if out="$(compose_config -u "$v" "${others[@]}")"; then
    echo "INVALID: $file is accepted although required $v is unset" >&2
    exit 1
  fi
  if ! grep -q "$v" <<<"$out"; then
    printf '%s\n' "$out" >&2
    echo "INVALID: unsetting $v failed, but not because of $v" >&2
    exit 1
  fi
done

echo "OK: $file ($(docker-compose version --short 2>/dev/null || echo '?'); required: ${required[*]})"
