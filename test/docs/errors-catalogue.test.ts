import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ERRORS } from '../../src/errors.ts';
import { HTTP_STATUS } from '../../src/http/errors.ts';

const test = suite('error catalogue');

test('docs/errors.md lists exactly the codes of src/errors.ts, each with its HTTP status', async () => {
  const doc = await readFile(resolve(import.meta.dirname, '../../docs/errors.md'), 'utf8');
  const rows = [...doc.matchAll(/^\|\s*`(STK_ERR_[A-Z_]+)`\s*\|\s*(\d{3}|—)\s*\|/gm)].map((m) => [m[1]!, m[2]!] as const);
  const documented = rows.map(([c]) => c).sort();
  assert.equal(documented, Object.keys(ERRORS).sort());
  for (const [code, status] of rows) {
    const expected = HTTP_STATUS[code as keyof typeof ERRORS];
    assert.is(status, expected ? String(expected) : code === 'STK_ERR_INTERNAL' ? '500' : '—', `status of ${code}`);
  }
});

test('every code follows STK_ERR_<AREA>_<WHAT> and has a description', () => {
  for (const [code, text] of Object.entries(ERRORS)) {
    assert.match(code, /^STK_ERR_[A-Z]+(_[A-Z]+)*$/);
    assert.ok(text.length > 10, code);
  }
});

test.run();
