/**
 * Runs every `*.test.ts` under test/, commands/, projections/ and src/ in one process with uvu,
 * then prints `N passed, N failed` from uvu's own totals (CI reads that line). A test file that
 * cannot even be imported counts as a failure. `npm test -- <substring>` runs matching files only.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '..');
// `--unit`: the fast suite — the tests beside pure code (deciders, projections, pure modules under
// src/), with no nats-server, browser or child process.
const unit = process.argv.includes('--unit');
const filters = process.argv.slice(2).filter((a) => a !== '--unit');

function collect(dir: string, out: string[]): void {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) collect(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
}

const files: string[] = [];
for (const top of unit ? ['commands', 'projections', 'src'] : ['commands', 'projections', 'src', 'test'])
  if (existsSync(join(root, top))) collect(join(root, top), files);
files.sort();
const selected = filters.length ? files.filter((f) => filters.some((s) => relative(root, f).includes(s))) : files;

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

// Capture uvu's summary while still printing it, and note when each file's header appears (uvu
// prints the file before running its suites), to name the slowest files at the end.
let out = '';
const started: [string, number][] = [];
// What uvu printed about failures, per file, repeated just above the totals: CI logs are often read
// from their tail, and a failure in the middle of 900 tests must not need the whole log.
const failures = new Map<string, string>();
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
  const header = /^\n?(\S+\.test\.ts)\n/.exec(text.replace(ANSI, ''));
  if (header?.[1]) started.push([header[1], performance.now()]);
  const plainChunk = text.replace(ANSI, '');
  const current = started.at(-1)?.[0] ?? '(before the first file)';
  if (/✘|FAIL/.test(plainChunk) || failures.has(current)) {
    const sofar = failures.get(current) ?? '';
    if (sofar.length < 4000) failures.set(current, sofar + plainChunk);
  }
  out += text;
  if (out.length > 1_000_000) out = out.slice(-100_000);
  return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stdout.write;

// Interrupted (Ctrl-C, a CI timeout): exit through process.exit so the 'exit' hooks stop every
// nats-server and CLI child the suites started; they run in their own process groups.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => process.exit(130));

(globalThis as { UVU_DEFER?: number }).UVU_DEFER = 1;
const uvu = await import('uvu');
const queue = (globalThis as unknown as { UVU_QUEUE: unknown[][] }).UVU_QUEUE;
let importFailures = 0;
let index = 0;
for (const file of selected) {
  (globalThis as { UVU_INDEX?: number }).UVU_INDEX = index++;
  queue.push([relative(root, file)]);
  try {
    await import(pathToFileURL(file).href);
  } catch (err) {
    importFailures++;
    console.error(`\n✘ could not load ${relative(root, file)}:`, err);
  }
}
await uvu.exec(false);

const finished = performance.now();
const plain = out.replace(ANSI, '');
const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
// uvu counts a suite whose `before` hook threw as not passed without listing an error.
const failed = total - passed + importFailures;
process.stdout.write = write;
if (started.length > 1) {
  const times = started.map(([file, at], i) => [file, (started[i + 1]?.[1] ?? finished) - at] as const).sort((a, b) => b[1] - a[1]);
  console.log(
    `\nslowest files:\n${times
      .slice(0, 8)
      .map(([file, ms]) => `  ${(ms / 1000).toFixed(1).padStart(6)} s  ${file}`)
      .join('\n')}\n`,
  );
}
if (failures.size > 0) {
  const excerpt = (text: string) =>
    (text.split(/^\s*Total:/m)[0] ?? '')
      .split('\n')
      .filter((l) => l.trim() && !/^\s*at .*node_modules/.test(l))
      .slice(0, 40)
      .join('\n');
  console.log(`failures:\n${[...failures].map(([file, text]) => `--- ${file}\n${excerpt(text)}`).join('\n')}\n`);
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed > 0 || selected.length === 0 ? 1 : 0;
// Open handles of a broken test must not keep CI waiting: the totals are printed, so leave.
setTimeout(() => process.exit(process.exitCode), 2000).unref();
