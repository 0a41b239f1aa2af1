import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { GATED_ACTIONS } from '../../commands/settings/events.ts';
import { PERMISSIONS, ROLE_NAMES } from '../../src/api/permissions.ts';

const test = suite('docs: the People and roles chapter names every role, permission and gated action');

test('operator-manual.md and threat-model.md', async () => {
  const manual = await readFile(resolve(import.meta.dirname, '../../docs/operator-manual.md'), 'utf8');
  const chapter = manual.slice(manual.indexOf('## People and roles'), manual.indexOf('## Errors'));
  assert.ok(chapter.length > 1000);
  for (const r of ROLE_NAMES) assert.ok(chapter.includes(`| \`${r}\` |`), `role ${r} in the table`);
  for (const p of Object.keys(PERMISSIONS)) assert.ok(chapter.includes(`\`${p}\``), `permission ${p}`);
  for (const g of GATED_ACTIONS) assert.ok(chapter.includes(`\`${g}\``), `gated action ${g}`);
  const threats = await readFile(resolve(import.meta.dirname, '../../docs/threat-model.md'), 'utf8');
  for (const needle of ['People and roles', 'break-glass', 'four eyes', 'stk-install']) assert.ok(threats.includes(needle), needle);
});

test.run();
