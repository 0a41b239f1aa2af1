import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { evaluate, loadPack, loadRule } from '../../src/detect/mod.ts';

/** docs/detection.md shows fixtures and code that this file loads and runs; they must not drift. */
const test = suite('detect: docs/detection.md comes from tested files');

const fixture = (name: string): string => join(import.meta.dirname, 'fixtures', name);
const doc = await readFile(join(import.meta.dirname, '../../docs/detection.md'), 'utf8');
const blocks = (lang: string): string[] => [...doc.matchAll(new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, 'gm'))].map((m) => m[1]!);

const matchItem = JSON.parse(await readFile(fixture('custom-rule.match.json'), 'utf8'));
const missItem = JSON.parse(await readFile(fixture('custom-rule.miss.json'), 'utf8'));

test('the custom rule, its items and the refused rule are shown verbatim', async () => {
  const yaml = blocks('yaml');
  const json = blocks('json');
  assert.ok(yaml.includes(await readFile(fixture('custom-rule.yml'), 'utf8')), 'custom-rule.yml');
  assert.ok(yaml.includes(await readFile(fixture('bad-rule.yml'), 'utf8')), 'bad-rule.yml');
  assert.ok(json.includes(await readFile(fixture('custom-rule.match.json'), 'utf8')), 'custom-rule.match.json');
  assert.ok(json.includes(await readFile(fixture('custom-rule.miss.json'), 'utf8')), 'custom-rule.miss.json');
});

test('the refusal shown is what loadRule answers for the bad rule', async () => {
  const r = loadRule(await readFile(fixture('bad-rule.yml'), 'utf8'), 'bad-rule.yml');
  assert.not.ok(r.ok);
  assert.ok(blocks('json').includes(`${JSON.stringify(r.ok ? null : r.problems, null, 2)}\n`));
});

test('the code shown runs and passes', async () => {
  const source = await readFile(join(import.meta.dirname, 'docs.test.ts'), 'utf8');
  const region = /\/\/ docs:start\n([\s\S]*?)\s*\/\/ docs:end/.exec(source)![1]!.replace(/^ {2}/gm, '');
  assert.ok(blocks('ts').includes(`${region}\n`), 'the ts block of the docs is the region below');
  // docs:start
  const text = await readFile(fixture('custom-rule.yml'), 'utf8');
  const loaded = loadRule(text, 'custom-rule.yml');
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  const [match] = evaluate([loaded.rule], matchItem);
  assert.is(match?.ruleId, 'eef82c01-0af0-4ea5-86f6-2ce21e3c01c1');
  assert.equal(match?.attack, ['T1003.008']);
  assert.equal(match?.groupValues, ['mallory']);
  assert.is(evaluate([loaded.rule], missItem).length, 0);
  // docs:end
});

test('the pack table lists every built-in rule with its title, product and level', async () => {
  for (const r of await loadPack()) {
    const row = `| \`${r.file}\` | ${r.title} | ${r.logsource.split('/')[1]} | ${r.product ?? 'core'} | ${r.level} |`;
    assert.ok(doc.includes(row), row);
  }
});

test.run();
