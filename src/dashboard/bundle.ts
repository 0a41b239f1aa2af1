import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { StkError } from '../errors.ts';
import type { Asset } from './assets.ts';

/** The browser entry points under `src/dashboard/ui`; each becomes `/ui/assets/<name>.js`. */
const ENTRIES = { main: 'main.tsx', login: 'login.tsx', 'live-worker': 'live-worker.ts' } as const;

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.map': 'application/json; charset=utf-8' };

/** The folder of the dashboard's TypeScript sources (beside this module; the compiled CLI finds them back in the sources). */
export function uiDir(): string {
  const candidates = [new URL('./ui/', import.meta.url), new URL('../../../src/dashboard/ui/', import.meta.url)];
  for (const c of candidates) {
    const p = fileURLToPath(c);
    if (existsSync(p)) return p;
  }
  throw new StkError('STK_ERR_CONFIG', 'the dashboard sources (src/dashboard/ui) are missing from this install');
}

let built: Promise<Map<string, Asset>> | null = null;

/**
 * The dashboard's components, compiled from TypeScript for the browser when the API process starts:
 * esbuild bundles each entry with Preact and Chart.js from this install's node_modules into memory
 * (no file is written, nothing is fetched). Pages that need a heavy library (charts) get it as a
 * chunk loaded on first use. One build per process, shared by every app the process serves.
 */
export function bundleUi(): Promise<Map<string, Asset>> {
  built ??= build().catch((err) => {
    built = null;
    throw err;
  });
  return built;
}

async function build(): Promise<Map<string, Asset>> {
  const esbuild = await import('esbuild');
  const dir = uiDir();
  const workerEntry = { 'live-worker': `${dir}${ENTRIES['live-worker']}` };
  const pageEntries = { main: `${dir}${ENTRIES.main}`, login: `${dir}${ENTRIES.login}` };
  const common = {
    bundle: true,
    write: false,
    minify: true,
    sourcemap: 'linked' as const,
    target: ['chrome111', 'firefox115', 'safari16.4'],
    jsx: 'automatic' as const,
    jsxImportSource: 'preact',
    legalComments: 'linked' as const,
    logLevel: 'silent' as const,
    outdir: '/ui-assets',
    define: { 'process.env.NODE_ENV': '"production"' },
  };
  let outputs: Array<{ path: string; contents: Uint8Array }>;
  try {
    const [pages, worker] = await Promise.all([
      esbuild.build({ ...common, entryPoints: pageEntries, format: 'esm', splitting: true, chunkNames: 'chunks/[name]-[hash]' }),
      // A classic script: module shared workers are not in every browser the dashboard supports.
      esbuild.build({ ...common, entryPoints: workerEntry, format: 'iife' }),
    ]);
    outputs = [...(pages.outputFiles ?? []), ...(worker.outputFiles ?? [])];
  } catch (err) {
    throw new StkError('STK_ERR_CONFIG', 'the dashboard could not be compiled', { dir }, { cause: err });
  }
  const assets = new Map<string, Asset>();
  for (const f of outputs) {
    const name = f.path.slice('/ui-assets/'.length);
    const ext = name.slice(name.lastIndexOf('.'));
    const type = TYPES[ext] ?? (name.endsWith('.LEGAL.txt') ? 'text/plain; charset=utf-8' : undefined);
    if (!type) continue;
    const body = Buffer.from(f.contents);
    assets.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });
  }
  return assets;
}
