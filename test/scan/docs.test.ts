import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_HTTP_PORTS, FINDING_KINDS, INTERNAL, MIN_PREFIX_LENGTH, NEVER_SCANNED, WEAK_CLASS_SEVERITY, WEAK_CLASSES } from '../../src/scan/mod.ts';
import data from '../../src/scan/vulnerable-banners.json' with { type: 'json' };

/** docs/attack-surface.md states facts the code decides; each is checked against the code here. */
const test = suite('docs: attack-surface.md agrees with src/scan');
const doc = await readFile(join(import.meta.dirname, '../../docs/attack-surface.md'), 'utf8');

/** The rows of the markdown table whose header starts with `first`. */
function table(first: string): string[][] {
  const start = doc.indexOf(`| ${first} |`);
  assert.ok(start >= 0, `no table starting with ${first}`);
  const rows = doc.slice(start).split('\n');
  const out: string[][] = [];
  for (const row of rows.slice(2)) {
    if (!row.startsWith('|')) break;
    out.push(
      row
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  }
  return out;
}

test('finding kinds, weak classes and their severities', () => {
  assert.equal(
    table('kind').map((r) => r[0]!.replace(/`/g, '')),
    [...FINDING_KINDS],
  );
  const classes = table('weak class');
  assert.equal(
    classes.map((r) => r[0]!.replace(/`/g, '')),
    [...WEAK_CLASSES],
  );
  for (const [c, , severity] of classes) assert.is(severity, WEAK_CLASS_SEVERITY[c!.replace(/`/g, '') as keyof typeof WEAK_CLASS_SEVERITY]);
});

test("the example entry is the shipped one, and the size bounds and port list are the code's", () => {
  const example = /## The known-vulnerable list[\s\S]*?```json\n([\s\S]*?)```/.exec(doc)?.[1];
  const parsed = JSON.parse(example!);
  assert.equal(
    parsed,
    data.entries.find((e) => e.id === parsed.id),
  );
  assert.ok(doc.includes(`at most /${MIN_PREFIX_LENGTH[4]} for IPv4 and /${MIN_PREFIX_LENGTH[6]} for IPv6`));
  assert.ok(doc.replace(/\s+/g, ' ').includes(`(default ${DEFAULT_HTTP_PORTS.join(', ')})`), 'the default HTTP ports');
});

test('every refused block is named in the doc', () => {
  const flat = doc.replace(/\s+/g, ' ');
  for (const b of [...NEVER_SCANNED, ...INTERNAL]) {
    const cidr = /\(([^)]+)\)/.exec(b.name)![1]!;
    const short = cidr.replace(/\/(32|128)$/, '');
    assert.ok(flat.includes(`\`${cidr}\``) || flat.includes(`\`${short}\``), `${cidr} is not in the doc`);
  }
});

test.run();
