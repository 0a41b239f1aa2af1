import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isStkError, type StkError } from '../../src/errors.ts';
import { assertRule, loadPack, loadRule, MAX_RULE_BYTES, packDir, type Problem } from '../../src/detect/mod.ts';
import { lineOf, mustLoad, procRule, refused } from './helpers.ts';

const test = suite('detect: rule loader');

/** Asserts exactly one problem, on the line holding `needle`, whose reason matches `reason`. */
function one(text: string, needle: string, reason: RegExp, nth = 1): Problem {
  const problems = refused(text);
  assert.is(problems.length, 1, `expected one problem, got ${JSON.stringify(problems, null, 1)}`);
  const p = problems[0]!;
  assert.is(p.line, lineOf(text, needle, nth), `line of ${p.reason}`);
  assert.match(p.reason, reason);
  assert.is(p.file, 'bad.yml');
  return p;
}

const SEL = '    selection:\n        Image|endswith: /bash\n    condition: selection';

test('every built-in rule loads, with a UUID id, a version and a known logsource', async () => {
  const dir = packDir();
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yml'));
  assert.ok(files.length >= 15, `${files.length} rule files`);
  for (const f of files) {
    const r = loadRule(await readFile(join(dir, f), 'utf8'), f);
    assert.ok(r.ok, `${f}: ${r.ok ? '' : JSON.stringify(r.problems)}`);
  }
  const pack = await loadPack();
  assert.is(pack.length, files.length);
  assert.is(new Set(pack.map((r) => r.id)).size, pack.length);
  for (const r of pack) assert.match(r.version, /^[0-9a-f]{16}$/);
});

test('a valid rule compiles with its metadata and the Stockade extension', () => {
  const text = procRule(SEL, 'tags:\n    - attack.execution\n    - attack.t1059.004\nstockade:\n    window: 15m\n    groupBy:\n        - User\n');
  const r = mustLoad(text);
  assert.is(r.logsource, 'linux/process_creation');
  assert.is(r.product, 'edr');
  assert.equal(r.attack, ['T1059.004']);
  assert.is(r.windowMs, 15 * 60_000);
  assert.equal(r.groupBy, ['User']);
  assert.equal(r.shownFields, ['Image']);
  // The version follows the text: one changed character gives another version.
  assert.is.not(mustLoad(text.replace('Test rule', 'Test rulf')).version, r.version);
});

test('YAML syntax error: refused with the line of the fault', () => {
  const text = procRule('    selection:\n        Image: [unclosed\n    condition: selection');
  const problems = refused(text);
  assert.ok(problems.length >= 1);
  assert.ok(problems.every((p) => /^YAML:/.test(p.reason)));
  assert.ok(
    problems.some((p) => p.line >= lineOf(text, '[unclosed')),
    JSON.stringify(problems),
  );
});

test('duplicate key: refused at the second occurrence', () => {
  const text = procRule('    selection:\n        Image: /a\n        Image: /b\n    condition: selection');
  one(text, 'Image: /b', /unique/i);
});

test('unknown top-level key, and Sigma keys outside the subset (scope), are refused at their line', () => {
  one(procRule(SEL, 'colour: blue\n'), 'colour:', /unknown top-level key `colour`/);
  one(procRule(SEL, 'scope:\n    - server\n'), 'scope:', /`scope` is not supported/);
});

test('missing required keys are each reported', () => {
  const text = 'title: x\nid: 0b6f2f0e-3c1d-4a57-9a43-7e1f0c2d9b11\n';
  const reasons = refused(text).map((p) => p.reason);
  for (const k of ['logsource', 'detection', 'level']) assert.ok(reasons.includes(`\`${k}\` is required`), k);
});

test('metadata values: id not a UUID, unknown level, status unsupported, bad date, other taxonomy', () => {
  one(procRule(SEL).replace('0b6f2f0e-3c1d-4a57-9a43-7e1f0c2d9b11', 'rule-42'), 'id: rule-42', /UUID/);
  one(procRule(SEL).replace('level: medium', 'level: severe'), 'level: severe', /`level` is one of/);
  one(procRule(SEL, 'status: unsupported\n'), 'status:', /status `unsupported` cannot be used/);
  one(procRule(SEL, 'date: 2026-02-30\n'), 'date:', /YYYY-MM-DD/);
  one(procRule(SEL, 'taxonomy: ecs\n'), 'taxonomy:', /only the default `sigma` taxonomy/);
});

test('tags: ATT&CK ids are validated, v1 tactic spelling is refused, other namespaces pass', () => {
  one(procRule(SEL, 'tags:\n    - attack.t1059\n    - attack.t10594\n'), 'attack.t10594', /not an ATT&CK technique/);
  one(procRule(SEL, 'tags:\n    - attack.defense_evasion\n'), 'defense_evasion', /hyphens.*attack\.defense-evasion/);
  one(procRule(SEL, 'tags:\n    - Attack.T1059\n'), 'Attack.T1059', /namespace\.value/);
  assert.equal(mustLoad(procRule(SEL, 'tags:\n    - cve.2021-44228\n    - attack.g0016\n    - attack.t1059.004\n')).attack, ['T1059.004']);
});

test('logsource: unknown product/category and a service are refused', () => {
  const text = procRule(SEL).replace('category: process_creation', 'category: registry_set');
  one(text, 'category: registry_set', /no data for logsource linux\/registry_set/);
  one(
    procRule(SEL).replace('category: process_creation', 'category: process_creation\n    service: auditd'),
    'service: auditd',
    /no logsource of Stockade has a `service`/,
  );
});

test('unknown field for the logsource: refused at the field, naming the known ones', () => {
  const p = one(
    procRule('    selection:\n        Commandline|contains: wget\n    condition: selection'),
    'Commandline',
    /unknown field `Commandline`.*CommandLine/,
  );
  assert.is(p.path, 'detection.selection.Commandline|contains');
});

test('modifiers: unsupported, unknown, conflicting, misplaced and misused ones are refused at their field', () => {
  const field = (key: string, value = 'x'): string => procRule(`    selection:\n        ${key}: ${value}\n    condition: selection`);
  one(field('CommandLine|base64'), 'CommandLine|base64', /`base64` is part of Sigma but not supported/);
  one(field('CommandLine|windash'), 'CommandLine|windash', /`windash` is part of Sigma but not supported/);
  one(field('CommandLine|fuzzy'), 'CommandLine|fuzzy', /unknown modifier `fuzzy`/);
  one(field('CommandLine|contains|startswith'), 'CommandLine|contains', /cannot be combined/);
  one(field('CommandLine|contains|i'), 'CommandLine|contains|i', /applies only after `re`/);
  one(field('CommandLine|i|re'), 'CommandLine|i|re', /come after `re`/);
  one(field('CommandLine|re|cased'), 'CommandLine|re|cased', /`cased` cannot be combined with `re`/);
  one(field('CommandLine|contains|contains'), 'CommandLine|contains|contains', /given twice/);
  one(field('CommandLine|contains|all'), 'CommandLine|contains|all', /`all` needs a list of at least two values/);
  one(field('ProcessId|lt', 'ten'), 'ProcessId|lt', /compares numbers/);
  one(field('Image|exists', 'yes'), 'Image|exists', /`exists` takes true or false/);
  one(field('Image|cidr', '10.0.0.0/33'), 'Image|cidr', /`cidr` needs a network/);
});

test('values: keyword lists, null inside a list, maps and empty lists are refused at the value', () => {
  one(procRule("    keywords:\n        - 'evil'\n        - 'worse'\n    condition: keywords"), "- 'evil'", /keyword search/);
  one(procRule("    keywords:\n        '|all':\n            - a\n            - b\n    condition: keywords"), "'|all'", /keyword search/);
  one(procRule('    selection:\n        User:\n            - root\n            - null\n    condition: selection'), '- null', /`null` cannot be part of a list/);
  one(procRule('    selection:\n        User:\n            name: root\n    condition: selection'), 'name: root', /strings, numbers or booleans/);
  one(procRule('    selection:\n        User: []\n    condition: selection'), 'User: []', /empty list/);
});

test('condition: aggregations, near, N of, unknown identifiers and unused selections are refused', () => {
  const cond = (c: string): string => procRule(`    selection:\n        Image|endswith: /bash\n    filter:\n        User: root\n    condition: ${c}`);
  const agg = one(cond('selection | count() by User > 5'), 'condition:', /aggregations/);
  assert.match(agg.reason, /column 11 of the condition/);
  // The column points into the file at the `|`.
  assert.is(agg.col, '    condition: selection '.length + 1);
  one(cond('selection and not filter and near'), 'condition:', /`near` is not supported/);
  one(cond('2 of selection* and not filter'), 'condition:', /only `1 of` and `all of`/);
  one(cond('selection and not filtr'), 'condition:', /`filtr` is not a search identifier/);
  one(cond('selection'), 'filter:', /`filter` is not used by the condition/);
  one(cond('1 of sel_* and not filter'), 'condition:', /pattern `sel_\*` matches no search identifier/);
  one(cond('selection and (filter'), 'condition:', /missing \)/);
  one(cond('selection and and filter'), 'condition:', /`and` where a search identifier was expected/);
  one(procRule('    selection:\n        Image: /bash\n    timeframe: 5m\n    condition: selection'), 'timeframe:', /timeframe/);
  one(procRule('    selection:\n        Image: /bash'), 'detection:', /no condition/);
  one(procRule('    not:\n        Image: /bash\n    condition: selection'), 'not:', /word of the condition language/);
});

test('re: a catastrophic pattern is refused at its value, with the position inside the pattern', () => {
  const text = procRule("    selection:\n        CommandLine|re: '^(a+)+$'\n    condition: selection");
  const p = one(text, '(a+)+', /nested quantifier/);
  assert.is(p.col, text.split('\n')[lineOf(text, '(a+)+') - 1]!.indexOf('(a+)+') + 1 + 1);
  one(procRule("    selection:\n        CommandLine|re: '(?=x)y'\n    condition: selection"), '(?=x)', /look-ahead is not supported/);
  one(procRule("    selection:\n        CommandLine|re: '(a|ab)*c'\n    condition: selection"), '(a|ab)', /alternation inside a repeated group/);
  one(procRule(`    selection:\n        CommandLine|re: '${'a'.repeat(600)}'\n    condition: selection`), 'CommandLine|re', /longer than 512/);
});

test('stockade extension: bad window, unknown key and unknown groupBy field are refused', () => {
  one(procRule(SEL, 'stockade:\n    window: 30s\n'), 'window: 30s', /duration from 1m to 7d/);
  one(procRule(SEL, 'stockade:\n    version: 3\n'), 'version: 3', /unknown key `version` in `stockade`/);
  one(procRule(SEL, 'stockade:\n    groupBy:\n        - Hostname\n'), '- Hostname', /unknown field `Hostname`/);
});

test('several documents, aliases, oversize files and non-map rules are refused', () => {
  one(`${procRule(SEL)}\n---\ntitle: second\n`, '---', /one rule per file/);
  one(procRule('    selection: &s\n        Image: /bash\n    other: *s\n    condition: selection and other'), 'other: *s', /aliases/);
  const big = refused(`${procRule(SEL)}\n# ${'x'.repeat(MAX_RULE_BYTES)}\n`);
  assert.match(big[0]!.reason, /at most 65536 bytes/);
  assert.match(refused('- just\n- a list\n')[0]!.reason, /a rule is a YAML map/);
});

test('every problem of a rule is listed, not only the first', () => {
  const text = procRule('    selection:\n        Imagee: /bash\n        CommandLine|base64: x\n    condition: selection or other', 'colour: blue\n').replace(
    'level: medium',
    'level: loud',
  );
  const problems = refused(text);
  const lines = problems.map((p) => p.line).sort((a, b) => a - b);
  assert.equal(
    lines,
    [lineOf(text, 'Imagee'), lineOf(text, 'base64'), lineOf(text, 'condition:'), lineOf(text, 'level: loud'), lineOf(text, 'colour')].sort((a, b) => a - b),
  );
});

test('assertRule throws STK_ERR_DETECT_RULE_INVALID carrying the problems', () => {
  try {
    assertRule(procRule(SEL).replace('level: medium', 'level: loud'), 'x.yml');
    assert.unreachable('must throw');
  } catch (err) {
    assert.ok(isStkError(err, 'STK_ERR_DETECT_RULE_INVALID'), String(err));
    const problems = (err as StkError).data.problems as Problem[];
    assert.is(problems.length, 1);
    assert.is(problems[0]!.file, 'x.yml');
  }
});

test('a pack where two files share an id is refused whole, naming both files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'stk-pack-'));
  try {
    await writeFile(join(dir, 'a.yml'), procRule(SEL));
    await writeFile(join(dir, 'b.yml'), procRule(SEL).replace('Test rule', 'Copy'));
    await loadPack(dir).then(
      () => assert.unreachable('must throw'),
      (err) => {
        assert.ok(isStkError(err, 'STK_ERR_DETECT_RULE_INVALID'));
        const [p] = (err as StkError).data.problems as Problem[];
        assert.is(p!.file, 'b.yml');
        assert.is(p!.line, 2);
        assert.match(p!.reason, /also the id of a\.yml/);
      },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
