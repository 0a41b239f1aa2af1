import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { compileRuleset, evaluate, LOGSOURCES, loadRule, type Rule } from '../../src/detect/mod.ts';
import { account, conn, mustLoad, proc } from './helpers.ts';

const test = suite('detect: field mapping');

function rule(product: string, category: string, key: string, value: string, extra = ''): Rule {
  return mustLoad(
    `title: t\nid: 0b6f2f0e-3c1d-4a57-9a43-7e1f0c2d9b11\nlogsource:\n    product: ${product}\n    category: ${category}\ndetection:\n    sel:\n        ${key}: ${value}\n    condition: sel\nlevel: low\n${extra}`,
  );
}

/** Each Sigma field with a value it must read from the item, and a value it must not. */
test('process_creation: every field reads its item field', () => {
  const item = proc({
    exe: '/usr/bin/curl',
    cmdline: 'curl -s x',
    parentExe: '/usr/bin/bash',
    parentCmdline: 'bash -l',
    user: 'alice',
    cwd: '/srv',
    pid: 77,
    ppid: 76,
    sha256: 'ff'.repeat(32),
    name: 'curl',
    uid: 1000,
  });
  const cases: [string, string, string][] = [
    ['Image', '/usr/bin/curl', '/usr/bin/bash'],
    ['CommandLine', "'curl -s x'", "'bash -l'"],
    ['ParentImage', '/usr/bin/bash', '/usr/bin/curl'],
    ['ParentCommandLine', "'bash -l'", "'curl -s x'"],
    ['User', 'alice', 'root'],
    ['CurrentDirectory', '/srv', '/home/alice'],
    ['ProcessId', '77', '76'],
    ['ParentProcessId', '76', '77'],
    ['Hashes', `'SHA256=${'ff'.repeat(32)}'`, `'${'ff'.repeat(32)}'`],
    ['OriginalFileName', 'curl', 'bash'],
    ['Uid', '1000', '0'],
  ];
  for (const [f, yes, no] of cases) {
    assert.is(evaluate([rule('linux', 'process_creation', f, yes)], item).length, 1, `${f}: ${yes}`);
    assert.is(evaluate([rule('linux', 'process_creation', f, no)], item).length, 0, `${f}: ${no}`);
  }
});

test('network_connection: every field, and Initiated inferred from state and ephemeral ports', () => {
  const item = conn({
    localAddress: '10.0.0.5',
    localPort: 45000,
    remoteAddress: '198.51.100.2',
    remotePort: 443,
    exe: '/usr/bin/curl',
    user: 'alice',
    pid: 9,
  });
  const cases: [string, string, string][] = [
    ['DestinationIp', '198.51.100.2', '10.0.0.5'],
    ['DestinationPort', '443', '45000'],
    ['SourceIp', '10.0.0.5', '198.51.100.2'],
    ['SourcePort', '45000', '443'],
    ['Image', '/usr/bin/curl', '/usr/bin/wget'],
    ['User', 'alice', 'bob'],
    ['Initiated', "'true'", "'false'"],
    ['Protocol', 'tcp', 'udp'],
    ['State', 'ESTABLISHED', 'LISTEN'],
    ['ProcessId', '9', '8'],
  ];
  for (const [f, yes, no] of cases) {
    assert.is(evaluate([rule('linux', 'network_connection', f, yes)], item).length, 1, `${f}: ${yes}`);
    assert.is(evaluate([rule('linux', 'network_connection', f, no)], item).length, 0, `${f}: ${no}`);
  }
  const initiated = (c: object): unknown => evaluate([rule('linux', 'network_connection', 'Initiated', 'null', 'fields:\n    - Initiated\n')], conn(c)).length;
  const inbound = rule('linux', 'network_connection', 'Initiated', "'false'");
  assert.is(evaluate([inbound], conn({ localPort: 22, remotePort: 51000 })).length, 1, 'a client on an ephemeral port connected to us');
  assert.is(evaluate([inbound], conn({ state: 'LISTEN', localPort: 40000, remotePort: 0 })).length, 1, 'a listener initiated nothing');
  assert.is(initiated({ localPort: 5432, remotePort: 6379 }), 1, 'unknown when neither side is ephemeral');
  assert.is(initiated({ localPort: 40000, remotePort: 50000 }), 1, 'unknown when both are');
});

test('account_change: fixed fields and Details.<key> from details', () => {
  const item = account({
    source: 'directory',
    change: 'group-member-added',
    account: 'eve',
    uid: null,
    group: 'Domain Admins',
    privileged: true,
    details: { dn: 'CN=eve', n: 3, nested: { x: 1 } },
  });
  const on = (k: string, v: string): number => evaluate([rule('stockade', 'account_change', k, v)], item).length;
  assert.is(on('Source', 'directory'), 1);
  assert.is(on('Change', 'group-member-added'), 1);
  assert.is(on('Account', 'EVE'), 1);
  assert.is(on('Uid', 'null'), 1);
  assert.is(on('Group', "'domain admins'"), 1);
  assert.is(on('Privileged', 'true'), 1);
  assert.is(on('Details.dn', "'CN=eve'"), 1);
  assert.is(on('Details.n', '3'), 1);
  assert.is(on('Details.missing', 'null'), 1);
  // Objects are not matchable values: they read as absent.
  assert.is(on('Details.nested|exists', 'false'), 1);
  assert.is(on('Details.nested', "'*'"), 0);
  const bad = loadRule(
    'title: t\nid: 0b6f2f0e-3c1d-4a57-9a43-7e1f0c2d9b11\nlogsource:\n    product: stockade\n    category: account_change\ndetection:\n    sel:\n        Details.a.b: x\n    condition: sel\nlevel: low\n',
    'x.yml',
  );
  assert.ok(!bad.ok && /unknown field `Details.a.b`/.test(bad.problems[0]!.reason));
});

test('agent_health, certificate and host_isolation records', () => {
  const on = (cat: string, k: string, v: string, item: object): number => evaluate([rule('stockade', cat, k, v)], item).length;
  const h = { kind: 'agent-health', event: 'clock_skew', skewSeconds: -400, silentSeconds: 0, agentVersion: '1.4.0' };
  assert.is(on('agent_health', 'Event', 'clock_skew', h), 1);
  assert.is(on('agent_health', 'SkewSeconds|lt', '-300', h), 1);
  assert.is(on('agent_health', 'SilentSeconds', '0', h), 1);
  assert.is(on('agent_health', 'AgentVersion|startswith', "'1.'", h), 1);
  const c = {
    kind: 'certificate',
    subject: 'CN=ingress',
    issuer: 'CN=ca',
    serialNumber: '01',
    notAfter: '2027-01-01T00:00:00Z',
    daysToExpiry: 5,
    selfSigned: true,
    purpose: 'ingress-server',
    host: 'ingress.local',
    port: 8443,
  };
  for (const [k, v] of [
    ['Subject', "'CN=ingress'"],
    ['Issuer', "'CN=ca'"],
    ['SerialNumber', "'01'"],
    ['NotAfter|startswith', "'2027-'"],
    ['DaysToExpiry', '5'],
    ['SelfSigned', 'true'],
    ['Purpose', 'ingress-server'],
    ['Host', 'ingress.local'],
    ['Port', '8443'],
  ] as const)
    assert.is(on('certificate', k, v, c), 1, k);
  const iso = { kind: 'host-isolation', state: 'isolated', actor: 'operator:ana', reason: 'triage' };
  assert.is(on('host_isolation', 'State', 'isolated', iso), 1);
  assert.is(on('host_isolation', 'Actor|startswith', "'operator:'", iso), 1);
  assert.is(on('host_isolation', 'Reason', 'triage', iso), 1);
});

test('an item is tested only against its logsource; unknown kinds match nothing', () => {
  const everything = [rule('linux', 'process_creation', 'User|exists', 'true'), rule('stockade', 'account_change', 'Account|exists', 'true')];
  const set = compileRuleset(everything);
  assert.is(evaluate(set, proc()).length, 1);
  assert.is(evaluate(set, account()).length, 1);
  assert.is(evaluate(set, { kind: 'alert' }).length, 0);
  assert.is(evaluate(set, {}).length, 0);
});

test('a match carries the rule, its shown fields and its group values', () => {
  const r = rule(
    'linux',
    'process_creation',
    'Image|endswith',
    '/curl',
    'fields:\n    - CommandLine\n    - CurrentDirectory\nstockade:\n    groupBy:\n        - User\n        - Hashes\n',
  );
  const [m] = evaluate([r], proc({ exe: '/usr/bin/curl', cmdline: 'curl x', cwd: null, user: 'Alice', sha256: null }));
  assert.equal(m, {
    ruleId: r.id,
    ruleVersion: r.version,
    overrideVersion: null,
    title: 't',
    level: 'low',
    tags: [],
    attack: [],
    product: 'edr',
    logsource: 'linux/process_creation',
    fields: { CommandLine: 'curl x', CurrentDirectory: null },
    groupValues: ['alice', null],
    windowMs: 3_600_000,
  });
});

test('docs/detection.md shows every field of the mapping table with its source', async () => {
  const doc = await readFile(join(import.meta.dirname, '../../docs/detection.md'), 'utf8');
  const sections = doc.split(/^#+ /m);
  for (const ls of LOGSOURCES) {
    const section = sections.find((x) => x.startsWith(`\`product: ${ls.product}, category: ${ls.category}\``));
    assert.ok(section, `docs/detection.md has a section for ${ls.key}`);
    for (const [name, spec] of Object.entries(ls.fields)) {
      assert.ok(section!.includes(`| \`${name}\` | ${spec.from} |`), `${ls.key}: row \`${name}\` | ${spec.from}`);
    }
  }
});

test.run();
