#!/usr/bin/env node
// The installed entry point runs the compiled CLI; `npm install` builds it (script "prepare").
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const compiled = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(compiled))) {
  console.error('stockade: the compiled CLI is missing; run `npm install` (it builds dist/) first.');
  process.exit(1);
}
await import(compiled.href);
