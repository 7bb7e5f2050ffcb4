#!/usr/bin/env bash
# Debian's headless Chromium and its WebDriver, for the console's browser tests
# (tests/integration/test_console_*.py drive it with selenium; nothing is downloaded at
# test time). Installs the `chromium` and `chromium-driver` packages with apt-get when
# chromedriver is not on the PATH (needs root, or sudo). Prints the driver's path.
set -euo pipefail
if ! command -v chromedriver >/dev/null; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "chromium: installing Debian's chromium and chromium-driver" >&2
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >&2
fi
command -v chromedriver
