#!/bin/sh
# What `npm test` needs on a fresh machine: nats-server, the npm dependencies, the test tools; then
# the guardrails run before any test: the type-check, the formatter and linter (Biome), and the
# dead-code check (knip: unused files, exports and dependencies; the mod.ts barrels and the event
# payload types of commands/*/events.ts are public surfaces, see knip.json).
set -eu
cd "$(dirname "$0")/.."
sh infra/ensure-nats.sh
if [ ! -d node_modules/uvu ] || [ ! -d node_modules/@nats-io/jetstream ]; then
  npm install --no-audit --no-fund
fi
sh infra/ensure-test-tools.sh
npx tsc -p tsconfig.json --noEmit
npx biome ci .
npx knip
