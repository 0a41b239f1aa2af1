#!/bin/sh
# Makes sure a nats-server binary is present. On Debian/Ubuntu it installs the distribution's
# `nats-server` package when missing (as root, or through sudo); elsewhere it says what to install.
# It never downloads a binary from anywhere else.
set -eu
if [ -n "${NATS_SERVER_BIN:-}" ] && [ -x "${NATS_SERVER_BIN}" ]; then exit 0; fi
for p in nats-server /usr/sbin/nats-server /usr/bin/nats-server /usr/local/bin/nats-server; do
  if command -v "$p" >/dev/null 2>&1; then exit 0; fi
done
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "stockade: nats-server is missing; install it as root: apt-get install nats-server" >&2; exit 1
    fi
  fi
  echo "stockade: installing nats-server from the distribution's packages" >&2
  $SUDO apt-get update -qq >/dev/null || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nats-server >/dev/null
  exit 0
fi
echo "stockade: nats-server is missing; install nats-server 2.9 or newer from your distribution, or set NATS_SERVER_BIN" >&2
exit 1
