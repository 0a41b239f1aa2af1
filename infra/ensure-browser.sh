#!/bin/sh
# The dashboard's browser suite drives the distribution's chromium through playwright-core; nothing
# is downloaded by Playwright itself. Installs Debian's `chromium` package when it is missing.
set -eu
BROWSER="${STOCKADE_CHROMIUM:-/usr/bin/chromium}"
[ -x "$BROWSER" ] && exit 0
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  [ -x "$BROWSER" ] && exit 0
fi
echo "the dashboard tests need chromium at $BROWSER (Debian: apt-get install chromium)" >&2
exit 1
