import { StkError } from '../errors.ts';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One static file of the dashboard, held in memory with its validator. */
export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * The dashboard's files are served as written (plain ES modules and CSS: nothing to build, nothing
 * fetched at run time). They sit beside this module in the sources; the compiled CLI in dist/ finds
 * them back in the sources, which an installed package ships.
 */
export function publicDir(): string {
  const candidates = [new URL('./public/', import.meta.url), new URL('../../../src/dashboard/public/', import.meta.url)];
  for (const c of candidates) {
    const p = fileURLToPath(c);
    if (existsSync(p)) return p;
  }
  throw new StkError('STK_ERR_INTERNAL', 'the dashboard files (src/dashboard/public) are missing from this install');
}

/**
 * Loads every file of the public folder once. Only these names can ever be served, so a request
 * path never reaches the file system.
 */
export async function loadAssets(dir = publicDir()): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const type = TYPES[extname(entry.name)];
    if (!type) continue;
    const full = join(entry.parentPath, entry.name);
    const name = full.slice(dir.length).split('\\').join('/').replace(/^\/+/, '');
    const body = await readFile(full);
    assets.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });
  }
  return assets;
}
