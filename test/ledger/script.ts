import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const DOC = resolve(import.meta.dirname, '../../docs/ledger-format.md');

/** The shell block marked `<!-- <name>` in docs/ledger-format.md, exactly as the page prints it. */
export async function docBlock(name: string): Promise<string> {
  const doc = await readFile(DOC, 'utf8');
  const marker = doc.indexOf(`<!-- ${name}`);
  const start = doc.indexOf('```sh\n', marker) + '```sh\n'.length;
  const end = doc.indexOf('\n```', start);
  if (marker < 0 || start < marker || end < 0) throw new Error(`${name} not found in docs/ledger-format.md`);
  return doc.slice(start, end + 1);
}

/** The export verification script exactly as docs/ledger-format.md prints it, written to `dir`. */
export async function docScript(dir: string): Promise<string> {
  const path = join(dir, 'verify-export.sh');
  await writeFile(path, await docBlock('verify-export.sh'), { mode: 0o755 });
  return path;
}

/** Runs the script with /bin/sh; resolves with its exit code and output. */
export function runScript(script: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((res) => {
    execFile('/bin/sh', [script, ...args], (err, stdout, stderr) => {
      res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
    });
  });
}
