/** Regenerates the configuration table of README.md from src/config/settings.ts: `node --import tsx infra/gen-config-doc.ts`. */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CONFIG_TABLE_END, CONFIG_TABLE_START, configTable } from '../src/config/doc.ts';

const path = resolve(import.meta.dirname, '../README.md');
const doc = await readFile(path, 'utf8');
if (!doc.includes(CONFIG_TABLE_START)) throw new Error(`README.md has no ${CONFIG_TABLE_START} marker`);
await writeFile(
  path,
  doc.replace(new RegExp(`${CONFIG_TABLE_START}[\\s\\S]*${CONFIG_TABLE_END}`), () => configTable()),
);
