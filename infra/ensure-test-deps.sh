#!/bin/sh
# What `npm test` needs on a fresh machine: nats-server, the npm dependencies, the test tools; then
# the guardrails run before any test: the type-check and the formatter and linter (Biome).
set -eu
cd "$(dirname "$0")/.."
sh infra/ensure-nats.sh
if [ ! -d node_modules/uvu ] || [ ! -d node_modules/@nats-io/jetstream ]; then
  npm install --no-audit --no-fund
fi
sh infra/ensure-test-tools.sh
npx tsc -p tsconfig.json --noEmit
npx biome ci .
