import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  type CertificateFacts,
  type ScanItem,
  bannerFindings,
  certificateFindings,
  compareVersions,
  compileVulnerableBanners,
  defaultVulnerableBanners,
  diffFindings,
  endpointOfKey,
  findingKey,
  matchBanner,
  newOpenPortFindings,
  scanFindings,
  tlsFindings,
} from '../../src/scan/mod.ts';
import { throws } from '../helpers/assert.ts';

const test = suite('scan findings');

const NOW = new Date('2025-06-01T00:00:00.000Z');
const open = (address: string, port: number, extra: Partial<ScanItem> = {}): ScanItem => ({ target: address, address, port, state: 'open', ...extra });
const closed = (address: string, port: number): ScanItem => ({ target: address, address, port, state: 'closed' });

function cert(o: Partial<CertificateFacts>): CertificateFacts {
  return {
    subject: 'CN=x',
    issuer: 'CN=ca',
    sans: [],
    keyType: 'ec',
    keyBits: 256,
    notBefore: '2025-01-01T00:00:00.000Z',
    notAfter: '2026-01-01T00:00:00.000Z',
    selfSigned: false,
    serial: '01',
    sha256: 'ab'.repeat(32),
    ...o,
  };
}

const withCert = (port: number, c: CertificateFacts): ScanItem =>
  open('192.0.2.10', port, {
    tls: { versions: ['TLSv1.3'], negotiated: { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' }, ciphers: [], certificate: c },
  });

test('keys: stable, IPv6 in brackets, and the endpoint can be read back', () => {
  assert.is(findingKey('192.0.2.1', 443, 'cert-expired', 'ff'), 'asm:192.0.2.1:443:cert-expired:ff');
  assert.is(findingKey('2001:db8::1', 22, 'new-open-port'), 'asm:[2001:db8::1]:22:new-open-port');
  assert.is(endpointOfKey('asm:[2001:db8::1]:22:new-open-port'), '[2001:db8::1]:22');
  assert.is(endpointOfKey('asm:192.0.2.1:443:weak-cipher:rc4'), '192.0.2.1:443');
  assert.is(endpointOfKey('patch:openssl'), null);
});

test('new open port: none on the first run; open now and not before; kept while an open finding says so', () => {
  const now = [open('192.0.2.1', 22), open('192.0.2.1', 443), closed('192.0.2.1', 80), open('2001:db8::5', 8080)];
  assert.equal(newOpenPortFindings(now, null), [], 'the first run is the baseline');
  const previous = [open('192.0.2.1', 22), closed('192.0.2.1', 443), open('192.0.2.1', 80)];
  assert.equal(
    newOpenPortFindings(now, previous).map((f) => f.key),
    ['asm:192.0.2.1:443:new-open-port', 'asm:[2001:db8::5]:8080:new-open-port'],
  );
  // A run later, 443 is still open: its finding stays open until the port closes or someone triages it.
  assert.equal(
    newOpenPortFindings(now, now, ['asm:192.0.2.1:443:new-open-port']).map((f) => f.key),
    ['asm:192.0.2.1:443:new-open-port'],
  );
});

test('certificates: expired, expiring within the threshold (exclusive), self-signed, weak keys by type', () => {
  const kinds = (items: ScanItem[], days = 30) => certificateFindings(items, NOW, days).map((f) => `${f.port}:${f.kind}`);
  assert.equal(kinds([withCert(1, cert({ notAfter: '2025-05-31T23:59:59.000Z' }))]), ['1:cert-expired']);
  assert.equal(kinds([withCert(2, cert({ notAfter: '2025-06-30T23:59:59.000Z' }))]), ['2:cert-expiring']);
  assert.equal(kinds([withCert(3, cert({ notAfter: '2025-07-01T00:00:00.000Z' }))]), [], 'exactly 30 days left is not within 30 days');
  assert.equal(kinds([withCert(3, cert({ notAfter: '2025-07-01T00:00:00.000Z' }))], 31), ['3:cert-expiring'], 'the threshold is a setting');
  assert.equal(kinds([withCert(4, cert({ selfSigned: true }))]), ['4:cert-self-signed']);
  const weak = [
    cert({ keyType: 'rsa', keyBits: 1024 }),
    cert({ keyType: 'rsa', keyBits: 2047 }),
    cert({ keyType: 'dsa', keyBits: 1024 }),
    cert({ keyType: 'ec', keyBits: 224, curve: 'P-224' }),
  ];
  const strong = [cert({ keyType: 'rsa', keyBits: 2048 }), cert({ keyType: 'ec', keyBits: 256 }), cert({ keyType: 'ed25519', keyBits: 256 })];
  assert.equal(kinds(weak.map((c, i) => withCert(10 + i, c))), ['10:cert-weak-key', '11:cert-weak-key', '12:cert-weak-key', '13:cert-weak-key']);
  assert.equal(kinds(strong.map((c, i) => withCert(20 + i, c))), []);
  const f = certificateFindings([withCert(5, cert({ notAfter: '2025-06-11T12:00:00.000Z' }))], NOW)[0]!;
  assert.is(f.key, `asm:192.0.2.10:5:cert-expiring:${'ab'.repeat(32)}`, 'the certificate fingerprint is part of the key: a new certificate is a new finding');
  assert.is(f.details.daysLeft, 10);
});

test('TLS: versions below 1.2, and one finding per weak class with its severity', () => {
  const item = open('192.0.2.1', 443, {
    tls: {
      versions: ['TLSv1', 'TLSv1.1', 'TLSv1.2'],
      negotiated: null,
      ciphers: [
        { version: 'TLSv1', cipher: 'TLS_RSA_WITH_RC4_128_SHA', weak: 'rc4' },
        { version: 'TLSv1.2', cipher: 'TLS_RSA_WITH_3DES_EDE_CBC_SHA', weak: '3des' },
        { version: 'TLSv1.2', cipher: 'TLS_RSA_EXPORT_WITH_RC4_40_MD5', weak: 'export' },
        { version: 'TLSv1.2', cipher: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256' },
      ],
    },
  });
  assert.equal(
    tlsFindings([item]).map((f) => [f.key, f.severity]),
    [
      ['asm:192.0.2.1:443:tls-legacy-version', 'medium'],
      ['asm:192.0.2.1:443:weak-cipher:export', 'high'],
      ['asm:192.0.2.1:443:weak-cipher:rc4', 'medium'],
      ['asm:192.0.2.1:443:weak-cipher:3des', 'medium'],
    ],
  );
  assert.equal(tlsFindings([open('192.0.2.1', 443, { tls: { versions: ['TLSv1.2', 'TLSv1.3'], negotiated: null, ciphers: [] } })]), []);
});

test('versions compare numerically, portable and letter releases after their base, pre-releases before it', () => {
  const sorted = ['7.10', '7.2p2', '7.2', '7.2p10', '1.3.5rc4', '1.3.5', '1.3.5a', '1.3.3c', '1.3.3', '2.4.9', '2.4.49'].sort(compareVersions);
  assert.equal(sorted, ['1.3.3', '1.3.3c', '1.3.5rc4', '1.3.5', '1.3.5a', '2.4.9', '2.4.49', '7.2', '7.2p2', '7.2p10', '7.10']);
  assert.is(compareVersions('9.8p1', '9.8p1'), 0);
});

test('the shipped list: each entry matches a real banner of an affected version, and not the fixed one', () => {
  const list = defaultVulnerableBanners();
  const ids = (text: string) =>
    matchBanner(text, list)
      .map((m) => `${m.entry.id}@${m.version}`)
      .sort();
  assert.equal(ids('220 (vsFTPd 2.3.4)\r\n'), ['vsftpd-2.3.4-backdoor@2.3.4']);
  assert.equal(ids('220 (vsFTPd 3.0.3)\r\n'), []);
  assert.equal(ids('220 ProFTPD 1.3.5 Server (ProFTPD Default Installation) [192.0.2.1]'), ['proftpd-mod-copy@1.3.5']);
  assert.equal(ids('220 ProFTPD 1.3.5a Server (Debian)'), []);
  assert.equal(ids('220 ProFTPD 1.3.3b Server'), ['proftpd-telnet-iac-overflow@1.3.3b']);
  assert.equal(ids('220 ProFTPD 1.3.3c Server'), []);
  assert.equal(ids('SSH-2.0-OpenSSH_7.2p2 Ubuntu-4ubuntu2.10'), ['openssh-before-7.3@7.2p2', 'openssh-user-enumeration-2018@7.2p2']);
  assert.equal(ids('SSH-2.0-OpenSSH_7.7p1'), ['openssh-user-enumeration-2018@7.7p1']);
  assert.equal(ids('SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6'), ['openssh-regresshion@8.9p1']);
  assert.equal(ids('SSH-2.0-OpenSSH_9.8p1'), []);
  assert.equal(ids('Apache/2.4.50 (Unix)'), ['apache-httpd-path-traversal-2021@2.4.50']);
  assert.equal(ids('Apache/2.4.51 (Unix)'), []);
  assert.equal(ids('Apache/2.4.27 (Debian)'), ['apache-httpd-optionsbleed@2.4.27']);
  assert.equal(ids('Apache/2.2.34'), ['apache-httpd-optionsbleed@2.2.34']);
  assert.equal(ids('nginx/1.4.0'), ['nginx-chunked-overflow@1.4.0', 'nginx-resolver-off-by-one@1.4.0']);
  assert.equal(ids('nginx/1.20.1'), []);
  assert.equal(ids('nginx/1.21.0'), []);

  const item = open('192.0.2.1', 80, { http: { status: 'HTTP/1.1 200 OK', server: 'nginx/1.18.0' } });
  assert.equal(
    bannerFindings([item]).map((f) => [f.key, f.severity, f.title]),
    [['asm:192.0.2.1:80:vulnerable-banner:nginx-resolver-off-by-one', 'high', 'nginx 1.18.0 (CVE-2021-23017)']],
  );
});

test('a malformed list is refused with the entry and field named', () => {
  const good = {
    id: 'x',
    product: 'X',
    pattern: 'X/(\\d+)',
    affected: [{ introduced: '0', fixed: '2' }],
    cves: ['CVE-2020-1234'],
    severity: 'low',
    title: 't',
  };
  assert.is(compileVulnerableBanners({ entries: [good] }).length, 1);
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ ...good, pattern: '(' }, 'pattern'],
    [{ ...good, pattern: 'X/\\d+' }, 'pattern'],
    [{ ...good, severity: 'urgent' }, 'severity'],
    [{ ...good, cves: ['CVE-20-1'] }, 'cves'],
    [{ ...good, affected: [{ fixed: '2' }] }, 'affected'],
    [{ ...good, affected: [{ introduced: '1', fixed: '2', lastAffected: '3' }] }, 'affected'],
    [{ ...good, id: 'Bad Id' }, 'id'],
  ];
  for (const [entry, field] of cases) {
    const err = throws(
      () => compileVulnerableBanners({ entries: [good, entry].map((e, i) => ({ ...e, id: i === 0 ? 'first' : e.id })) }),
      'STK_ERR_SCAN_DATA_INVALID',
    );
    assert.equal([err.data.index, err.data.field], [1, field], JSON.stringify(entry));
  }
  throws(() => compileVulnerableBanners({ entries: [good, good] }), 'STK_ERR_SCAN_DATA_INVALID');
  throws(() => compileVulnerableBanners({}), 'STK_ERR_SCAN_DATA_INVALID');
});

test('one finding per key across targets; diff: new, still open, remediated where scanned, unobserved elsewhere', () => {
  const a = open('192.0.2.1', 22, { banner: 'SSH-2.0-OpenSSH_9.6p1' });
  const viaName = { ...a, target: 'host.example.com' };
  const findings = scanFindings([viaName, a], { now: NOW });
  assert.equal(
    findings.map((f) => [f.key, f.target]),
    [['asm:192.0.2.1:22:vulnerable-banner:openssh-regresshion', 'host.example.com']],
  );

  const before = ['asm:192.0.2.1:22:vulnerable-banner:openssh-regresshion', 'asm:192.0.2.1:443:tls-legacy-version', 'asm:192.0.2.9:443:tls-legacy-version'];
  const current = scanFindings([a, closed('192.0.2.1', 443), open('192.0.2.1', 8443, { tls: { versions: ['TLSv1'], negotiated: null, ciphers: [] } })], {
    now: NOW,
  });
  const scanned = [a, closed('192.0.2.1', 443), open('192.0.2.1', 8443)];
  assert.equal(diffFindings(before, current, scanned), {
    new: ['asm:192.0.2.1:8443:tls-legacy-version'],
    stillOpen: ['asm:192.0.2.1:22:vulnerable-banner:openssh-regresshion'],
    remediated: ['asm:192.0.2.1:443:tls-legacy-version'],
    unobserved: ['asm:192.0.2.9:443:tls-legacy-version'],
  });
  assert.equal(diffFindings(before, current).remediated, ['asm:192.0.2.1:443:tls-legacy-version', 'asm:192.0.2.9:443:tls-legacy-version']);
});

test.run();
