#!/bin/sh
# Tools the suites call besides nats-server: openssl and curl (a client nobody here wrote), and jq
# (docs/agent-protocol.md's shell session, which a test runs as written).
set -eu
sh "$(dirname "$0")/ensure-browser.sh"
missing=""
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
command -v curl >/dev/null 2>&1 || missing="$missing curl"
command -v jq >/dev/null 2>&1 || missing="$missing jq"
[ -z "$missing" ] && exit 0
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
else
  echo "stockade tests need:$missing" >&2; exit 1
fi
