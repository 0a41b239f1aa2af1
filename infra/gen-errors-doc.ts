/** Regenerates the table of docs/errors.md from src/errors.ts: `node --import tsx infra/gen-errors-doc.ts`. */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ERRORS } from '../src/errors.ts';
import { HTTP_STATUS } from '../src/http/errors.ts';

const path = resolve(import.meta.dirname, '../docs/errors.md');
const doc = await readFile(path, 'utf8').catch(() => '');
const start = '<!-- catalogue:start -->';
const end = '<!-- catalogue:end -->';
const rows = Object.entries(ERRORS).map(([code, text]) => {
  const status = HTTP_STATUS[code as keyof typeof ERRORS] ?? (code === 'STK_ERR_INTERNAL' ? 500 : '—');
  return `| \`${code}\` | ${status} | ${text.replace(/\|/g, '\\|')} |`;
});
const table = [start, '| code | HTTP | meaning |', '|---|---|---|', ...rows, end].join('\n');
const next = doc.includes(start) ? doc.replace(new RegExp(`${start}[\\s\\S]*${end}`), () => table) : `${doc}\n${table}\n`;
await writeFile(path, next);
