import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { compactPorts, expandPorts } from '../../src/scan/ports.ts';
import { precheckTargets } from '../../src/scan/precheck.ts';
import type { ScanItem } from '../../src/scan/items.ts';
import { judgeRun, remediatedKeys } from '../../src/scan/runs/diff.ts';

const test = suite('attack surface: port lists, the precheck, judging a run against the previous one');

test('port lists: single ports and inclusive ranges, sorted and unique; malformed entries refused; runs compacted', () => {
  assert.equal(expandPorts([443, '20-22', 22, '8080']), { ok: true, ports: [20, 21, 22, 443, 8080] });
  for (const bad of [[0], [65_536], ['9-1'], ['1-65536'], ['x'], [1.5], []] as never[]) assert.is(expandPorts(bad).ok, false, JSON.stringify(bad));
  assert.equal(compactPorts([22, 20, 21, 443, 444, 8080]), ['20-22', 443, 444, 8080]);
  const all = expandPorts(['1-65535']);
  assert.ok(all.ok && all.ports.length === 65_535);
});

test('the precheck needs no DNS: names must be allowlisted, addresses inside it and clear of the refused blocks', () => {
  const list = ['198.51.100.0/28', 'www.example.com', '*.corp.example', '127.0.0.1'];
  assert.equal(precheckTargets(['198.51.100.0/29', 'WWW.example.com', 'a.corp.example'], list).ok, true);
  const r = precheckTargets(['198.51.100.0/27', 'corp.example', '127.0.0.1', '0.0.0.1'], list, { refuseInternal: true });
  assert.ok(!r.ok);
  assert.equal(!r.ok && r.problems.map((p) => [p.target, p.reason]), [
    ['198.51.100.0/27', 'outside-allowlist'],
    ['corp.example', 'name-not-allowlisted'],
    ['127.0.0.1', 'refused-block'],
    ['0.0.0.1', 'refused-block'],
  ]);
  assert.equal(precheckTargets(['127.0.0.1'], list).ok, true, 'an agent may scan its own loopback');
  const invalid = precheckTargets(['10.0.0.1/8'], list);
  assert.ok(!invalid.ok && invalid.code === 'STK_ERR_SCAN_TARGET_INVALID');
});

const i = (port: number, state: ScanItem['state'], extra: Partial<ScanItem> = {}): ScanItem => ({
  target: '198.51.100.7',
  address: '198.51.100.7',
  port,
  state,
  ...extra,
});
const now = new Date('2026-03-01T00:00:00Z');

test('a port is newly open only where the previous run looked and did not find it open; gone exposures are remediated, unscanned ones stay', () => {
  const first = judgeRun([i(22, 'open'), i(80, 'closed')], { items: null, openKeys: [] }, { now, expiryWarningDays: 30 });
  assert.equal(first.findings, [], 'the first run is the baseline');
  assert.equal(first.counts, { open: 1, closed: 1, filtered: 0, tls: 0 });

  const banner = '220 (vsFTPd 2.3.4)\r\n'.replace(/\r/g, '\\r').replace(/\n/g, '\\n');
  const second = judgeRun(
    [i(21, 'open', { banner }), i(22, 'open'), i(80, 'open'), i(8080, 'open')],
    { items: [i(22, 'open'), i(80, 'closed')], openKeys: ['asm:198.51.100.7:443:tls-legacy-version'] },
    {
      now,
      expiryWarningDays: 30,
    },
  );
  const keys = second.findings.map((f) => f.key);
  assert.ok(keys.includes('asm:198.51.100.7:80:new-open-port'), 'scanned closed before, open now');
  assert.not.ok(keys.includes('asm:198.51.100.7:8080:new-open-port'), 'never scanned before: a baseline, not news');
  assert.not.ok(keys.includes('asm:198.51.100.7:22:new-open-port'));
  assert.ok(keys.includes('asm:198.51.100.7:21:vulnerable-banner:vsftpd-2.3.4-backdoor'));
  assert.equal(second.diff.opened, ['198.51.100.7:80']);
  assert.equal(second.diff.findings.unobserved, ['asm:198.51.100.7:443:tls-legacy-version'], 'port 443 was not scanned: nothing is known');
  assert.ok(second.openKeys.includes('asm:198.51.100.7:443:tls-legacy-version'));

  const third = judgeRun(
    [i(21, 'closed'), i(22, 'open'), i(80, 'open'), i(443, 'closed')],
    { items: [i(21, 'open', { banner }), i(22, 'open'), i(80, 'open')], openKeys: second.openKeys },
    {
      now,
      expiryWarningDays: 30,
    },
  );
  assert.equal(third.diff.closed, ['198.51.100.7:21']);
  assert.equal(remediatedKeys(second.openKeys, third), [
    'asm:198.51.100.7:21:vulnerable-banner:vsftpd-2.3.4-backdoor',
    'asm:198.51.100.7:443:tls-legacy-version',
  ]);
  assert.ok(third.openKeys.includes('asm:198.51.100.7:80:new-open-port'), 'a new-open-port finding stays open while its port is');
});

test('certificate changes: a renewed or replaced certificate on a port open in both runs, TLS switched off; opened and closed ports are not repeated', () => {
  const cert = (sha: string, notAfter: string) => ({
    versions: ['TLSv1.3' as const],
    negotiated: { version: 'TLSv1.3' as const, cipher: 'TLS_AES_128_GCM_SHA256' },
    ciphers: [],
    certificate: {
      subject: 'CN=www.example.com',
      issuer: 'CN=Example CA',
      sans: ['dns:www.example.com'],
      keyType: 'ec' as const,
      keyBits: 256,
      notBefore: '2025-01-01T00:00:00.000Z',
      notAfter,
      selfSigned: false,
      serial: sha.slice(0, 8),
      sha256: sha.repeat(64).slice(0, 64),
    },
  });
  const before = [
    i(443, 'open', { tls: cert('a', '2026-03-10T00:00:00.000Z') }),
    i(636, 'open', { tls: cert('b', '2027-01-01T00:00:00.000Z') }),
    i(8443, 'open', { tls: cert('c', '2027-01-01T00:00:00.000Z') }),
    i(9443, 'open', { tls: cert('d', '2027-01-01T00:00:00.000Z') }),
  ];
  const after = [
    i(443, 'open', { tls: cert('e', '2026-06-10T00:00:00.000Z') }),
    i(636, 'open', { tls: cert('b', '2027-01-01T00:00:00.000Z') }),
    i(8443, 'open'),
    i(9443, 'closed'),
    i(10443, 'open', { tls: cert('f', '2027-01-01T00:00:00.000Z') }),
  ];
  const j = judgeRun(after, { items: before, openKeys: [] }, { now, expiryWarningDays: 30 });
  assert.equal(
    j.diff.certificates?.map((c) => [c.endpoint, c.from?.sha256.slice(0, 1) ?? null, c.to?.sha256.slice(0, 1) ?? null, c.to?.notAfter ?? null]),
    [
      ['198.51.100.7:443', 'a', 'e', '2026-06-10T00:00:00.000Z'],
      ['198.51.100.7:8443', 'c', null, null],
    ],
    'the unchanged certificate on 636, the closed 9443 and the never-scanned 10443 are no certificate change',
  );
  assert.equal(j.diff.closed, ['198.51.100.7:9443']);
  assert.equal(judgeRun(after, { items: null, openKeys: [] }, { now, expiryWarningDays: 30 }).diff.certificates, [], 'the first run changes nothing');
});

test.run();
