import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { applyTenantConfig, assertTenantConfig, type ConfigProblem, evaluate, loadPack, type Rule, validateTenantConfig } from '../../src/detect/mod.ts';
import { isStkError, type StkError } from '../../src/errors.ts';
import { account, lineOf, proc } from './helpers.ts';

const test = suite('detect: per-tenant settings');

const pack = await loadPack();
const byFile = (f: string): Rule => pack.find((r) => r.file === f)!;
const TMP = byFile('proc_creation_lnx_exec_from_tmp.yml');
const WEBSHELL = byFile('proc_creation_lnx_webserver_spawns_shell.yml');
const SILENT = byFile('agent_health_stopped_or_silent.yml');
const ROOTKEY = byFile('account_change_root_ssh_key.yml');

function valid(input: unknown) {
  const r = validateTenantConfig(pack, input);
  if (!r.ok) throw new Error(JSON.stringify(r.problems, null, 1));
  return r.config;
}

function problems(input: unknown): ConfigProblem[] {
  const r = validateTenantConfig(pack, input);
  assert.not.ok(r.ok, 'must be refused');
  return r.ok ? [] : r.problems;
}

const ids = (rules: Rule[]): Set<string> => new Set(rules.map((r) => r.id));

test('products gate rules: a core-only tenant runs the core rules only', () => {
  const core = applyTenantConfig(pack, valid({}), []);
  assert.ok(core.length > 0);
  assert.ok(core.every((r) => r.product === null));
  assert.ok(ids(core).has(SILENT.id));
  const edr = applyTenantConfig(pack, valid({}), ['edr']);
  assert.ok(ids(edr).has(TMP.id));
  assert.not.ok(ids(edr).has(ROOTKEY.id));
  assert.ok(ids(applyTenantConfig(pack, valid({}), ['identity'])).has(ROOTKEY.id));
});

test('a rule turned off is not run; a core rule cannot be turned off', () => {
  const rules = applyTenantConfig(pack, valid({ rules: { [TMP.id]: { enabled: false } } }), ['edr']);
  assert.not.ok(ids(rules).has(TMP.id));
  assert.is(evaluate(rules, proc({ exe: '/tmp/x' })).length, 0);
  const [p] = problems({ rules: { [SILENT.id]: { enabled: false } } });
  assert.is(p!.path, `rules.${SILENT.id}.enabled`);
  assert.match(p!.reason, /core rules are always on/);
});

test('a level override changes the level of matches and records an override version', () => {
  const rules = applyTenantConfig(pack, valid({ rules: { [TMP.id]: { level: 'critical' } } }), ['edr']);
  const [m] = evaluate(rules, proc({ exe: '/tmp/x' }));
  assert.is(m!.level, 'critical');
  assert.is(m!.ruleVersion, TMP.version);
  assert.match(m!.overrideVersion!, /^[0-9a-f]{16}$/);
  const again = applyTenantConfig(pack, valid({ rules: { [TMP.id]: { level: 'critical' } } }), ['edr']);
  assert.is(evaluate(again, proc({ exe: '/tmp/x' }))[0]!.overrideVersion, m!.overrideVersion, 'same setting, same version');
  const other = applyTenantConfig(pack, valid({ rules: { [TMP.id]: { level: 'low' } } }), ['edr']);
  assert.is.not(evaluate(other, proc({ exe: '/tmp/x' }))[0]!.overrideVersion, m!.overrideVersion);
  // The pack itself is untouched.
  assert.is(TMP.level, 'medium');
});

test('exclusions drop matches by field value: any listed field, any listed value, wildcards, case-insensitive', () => {
  const config = valid({ rules: { [TMP.id]: { exclude: { Image: ['/tmp/build-*/helper'], User: ['JENKINS', 'gitlab-runner'] } } } });
  const rules = applyTenantConfig(pack, config, ['edr']);
  const fires = (item: object): boolean => evaluate(rules, item).some((m) => m.ruleId === TMP.id);
  assert.ok(fires(proc({ exe: '/tmp/payload' })));
  assert.not.ok(fires(proc({ exe: '/tmp/build-42/helper' })));
  assert.not.ok(fires(proc({ exe: '/tmp/payload', user: 'jenkins' })));
  assert.not.ok(fires(proc({ exe: '/tmp/payload', user: 'gitlab-runner' })));
  assert.ok(fires(proc({ exe: '/tmp/build-42/helper2' })));
  // Exclusions narrow one rule only.
  const web = proc({ parentExe: '/usr/sbin/nginx', exe: '/tmp/sh', user: 'jenkins' });
  assert.ok(evaluate(rules, web).some((m) => m.ruleId === WEBSHELL.id));
});

test('exclusions may name fields outside the detection, and work on core rules', () => {
  const rules = applyTenantConfig(pack, valid({ rules: { [SILENT.id]: { exclude: { SilentSeconds: [900] } } } }), []);
  assert.is(evaluate(rules, { kind: 'agent-health', event: 'silent', silentSeconds: 900 }).length, 0);
  assert.is(evaluate(rules, { kind: 'agent-health', event: 'silent', silentSeconds: 901 }).length, 1);
});

test('bad settings are refused with their path: unknown rule, key, field, level, value types', () => {
  const got = problems({
    rules: {
      '00000000-0000-4000-8000-000000000000': { level: 'high' },
      [TMP.id]: { level: 'urgent', colour: 1, exclude: { Hostname: ['x'], User: [] } },
      [ROOTKEY.id]: { exclude: { Account: [{ name: 'root' }] } },
    },
    extra: true,
  });
  const paths = got.map((p) => p.path).sort();
  assert.equal(
    paths,
    [
      'extra',
      'rules.00000000-0000-4000-8000-000000000000',
      `rules.${TMP.id}.colour`,
      `rules.${TMP.id}.level`,
      `rules.${TMP.id}.exclude.Hostname`,
      `rules.${TMP.id}.exclude.User`,
      `rules.${ROOTKEY.id}.exclude.Account`,
    ].sort(),
  );
  assert.match(problems('nope')[0]!.reason, /an object/);
});

const CUSTOM = `title: Custom - psql as root
id: 7d3f2a9e-1b2c-4d5e-8f90-a1b2c3d4e5f6
logsource:
    product: linux
    category: process_creation
detection:
    selection:
        Image|endswith: /psql
        User: root
    condition: selection
level: low
`;

test('custom rules load like built-ins, get a content version, and can be tuned', () => {
  const config = valid({ custom: [{ name: 'psql.yml', yaml: CUSTOM }], rules: { '7d3f2a9e-1b2c-4d5e-8f90-a1b2c3d4e5f6': { level: 'high' } } });
  assert.is(config.custom.length, 1);
  assert.match(config.custom[0]!.version, /^[0-9a-f]{16}$/);
  const rules = applyTenantConfig(pack, config, ['edr']);
  const [m] = evaluate(rules, proc({ exe: '/usr/bin/psql', user: 'root' }));
  assert.is(m!.ruleId, '7d3f2a9e-1b2c-4d5e-8f90-a1b2c3d4e5f6');
  assert.is(m!.level, 'high');
  assert.is(evaluate(applyTenantConfig(pack, config, []), proc({ exe: '/usr/bin/psql', user: 'root' })).length, 0, 'custom rules are gated too');
});

test('a bad custom rule is refused with its name, line and path under custom[i]', () => {
  const bad = CUSTOM.replace('User: root', 'Usr: root');
  const [p] = problems({ custom: [{ name: 'psql.yml', yaml: bad }] });
  assert.is(p!.file, 'psql.yml');
  assert.is(p!.line, lineOf(bad, 'Usr: root'));
  assert.is(p!.path, 'custom[0].detection.selection.Usr');
  assert.match(p!.reason, /unknown field `Usr`/);
});

test('custom rule ids may not collide with a built-in or with each other', () => {
  const clash = CUSTOM.replace('7d3f2a9e-1b2c-4d5e-8f90-a1b2c3d4e5f6', TMP.id);
  assert.match(problems({ custom: [{ name: 'a.yml', yaml: clash }] })[0]!.reason, /built-in rule's/);
  const twice = problems({
    custom: [
      { name: 'a.yml', yaml: CUSTOM },
      { name: 'b.yml', yaml: CUSTOM },
    ],
  });
  assert.is(twice[0]!.path, 'custom[1].id');
  assert.match(problems({ custom: [{ name: 'a.yml' }] })[0]!.reason, /\{name, yaml\}/);
});

test('assertTenantConfig throws STK_ERR_DETECT_CONFIG_INVALID carrying the problems', () => {
  try {
    assertTenantConfig(pack, { rules: { [SILENT.id]: { enabled: false } } });
    assert.unreachable('must throw');
  } catch (err) {
    assert.ok(isStkError(err, 'STK_ERR_DETECT_CONFIG_INVALID'), String(err));
    assert.is(((err as StkError).data.problems as ConfigProblem[]).length, 1);
  }
  assert.ok(assertTenantConfig(pack, {}).settings.size === 0);
  // Identity rules run with their own product.
  const rules = applyTenantConfig(pack, valid({}), ['identity']);
  assert.is(evaluate(rules, account({ change: 'key-added', account: 'root', uid: 0 }))[0]!.ruleId, ROOTKEY.id);
});

test.run();
