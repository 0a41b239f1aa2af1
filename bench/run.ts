/**
 * `npm run bench [-- part …]`: runs the named parts (all by default). Each part starts what it
 * needs on loopback, measures its figures beside a reference taken in the same run, and prints
 * both with their ratio; absolute numbers drift ±25% between runs on this kind of machine
 * (shared/LIMITS.md), the ratios are what to compare.
 */
import { PARTS } from './parts.ts';

// Interrupted, the bench still runs its exit hooks: the role processes and nats-servers it started
// are killed with it instead of running on, orphaned (as the test runner does).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => process.exit(130));

const wanted = process.argv.slice(2);
const names = wanted.length ? wanted : Object.keys(PARTS);
for (const name of names) {
  const part = PARTS[name];
  if (!part) {
    console.error(`unknown bench part ${name}; parts: ${Object.keys(PARTS).join(', ')}`);
    process.exit(2);
  }
  console.log(`\n== ${name} ==`);
  await part();
}
process.exit(0);
