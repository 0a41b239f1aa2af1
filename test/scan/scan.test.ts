import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { type ScanItem, checkScanRequest, diffFindings, runScan, scanFindings, suiteName } from '../../src/scan/mod.ts';
import { bannerServer, closedPort, httpServer, issueLeaf, type KeyPair, listen, type Listener, makeCa, selfSigned, tlsServer } from './fixture.ts';

const test = suite('scan of real listeners');

const DAY_MS = 86_400_000;
// Whole seconds: X.509 times carry no milliseconds.
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const at = (days: number): Date => new Date(NOW.getTime() + days * DAY_MS);
const sha256 = (der: Buffer): string => createHash('sha256').update(der).digest('hex');
const TLS13 = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'].map((cipher) => ({ version: 'TLSv1.3', cipher }));
const TLS10_CIPHERS = 'ECDHE-RSA-AES128-SHA:AES256-SHA:NULL-SHA:@SECLEVEL=0';

interface World {
  ssh: Listener;
  http: Listener;
  tls13: Listener;
  tls10: Listener;
  expired: Listener;
  weak: Listener;
  closed: number;
  certs: Record<'tls13' | 'tls10' | 'expired' | 'weak', KeyPair>;
  close(): Promise<void>;
}

async function world(): Promise<World> {
  const ca = await makeCa();
  const certs = {
    tls13: await issueLeaf(ca, { cn: 'tls13.scan.test', names: ['tls13.scan.test', '127.0.0.1'], notBefore: at(-1), notAfter: at(365), serial: '1001' }),
    tls10: await issueLeaf(ca, { cn: 'tls10.scan.test', names: ['tls10.scan.test'], notBefore: at(-1), notAfter: at(200), serial: '1002', rsaBits: 2048 }),
    expired: await issueLeaf(ca, { cn: 'expired.scan.test', names: ['expired.scan.test'], notBefore: at(-90), notAfter: at(-1), serial: '1003' }),
    weak: await selfSigned({ cn: 'weak.scan.test', bits: 1024, serial: '1004', notBefore: at(-1), notAfter: at(20) }),
  };
  const started: Listener[] = [];
  const add = async (l: Promise<Listener>): Promise<Listener> => {
    const x = await l;
    started.push(x);
    return x;
  };
  try {
    return {
      ssh: await add(listen(bannerServer('SSH-2.0-OpenSSH_7.2p2 Ubuntu-4ubuntu2.10\r\n'))),
      http: await add(listen(httpServer('Apache/2.4.49 (Unix)'))),
      tls13: await add(listen(tlsServer(certs.tls13, { minVersion: 'TLSv1.3' }))),
      // Node's own OpenSSL serves TLS 1.0 once the security level allows SHA-1 handshake signatures.
      tls10: await add(listen(tlsServer(certs.tls10, { minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: TLS10_CIPHERS }))),
      expired: await add(listen(tlsServer(certs.expired, { minVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }))),
      weak: await add(listen(tlsServer(certs.weak, { minVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384:AES128-SHA' }))),
      closed: await closedPort(),
      certs,
      close: async () => void (await Promise.all(started.map((l) => l.close()))),
    };
  } catch (err) {
    await Promise.all(started.map((l) => l.close()));
    throw err;
  }
}

function certFacts(
  pair: KeyPair,
  o: { subject: string; issuer: string; sans: string[]; key: [string, number, string?]; from: Date; to: Date; self: boolean; serial: string },
) {
  return {
    subject: o.subject,
    issuer: o.issuer,
    sans: o.sans,
    keyType: o.key[0],
    keyBits: o.key[1],
    ...(o.key[2] ? { curve: o.key[2] } : {}),
    notBefore: o.from.toISOString(),
    notAfter: o.to.toISOString(),
    selfSigned: o.self,
    serial: o.serial,
    sha256: sha256(pair.der),
  };
}

const CA = 'CN=Stockade scan test CA';

/** The item as a run that found its port closed would have it. */
function closedNow(i: ScanItem): ScanItem {
  return { target: i.target, address: i.address, port: i.port, state: 'closed' };
}

function expectedItems(w: World): ScanItem[] {
  const base = (port: number) => ({ target: '127.0.0.1', address: '127.0.0.1', port });
  const items = [
    { ...base(w.ssh.port), state: 'open', banner: 'SSH-2.0-OpenSSH_7.2p2 Ubuntu-4ubuntu2.10\\r\\n' },
    { ...base(w.http.port), state: 'open', http: { status: 'HTTP/1.1 200 OK', server: 'Apache/2.4.49 (Unix)' } },
    {
      ...base(w.tls13.port),
      state: 'open',
      tls: {
        versions: ['TLSv1.3'],
        negotiated: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
        ciphers: TLS13,
        certificate: certFacts(w.certs.tls13, {
          subject: 'CN=tls13.scan.test, O=Stockade Tests',
          issuer: CA,
          sans: ['dns:tls13.scan.test', 'ip:127.0.0.1'],
          key: ['ec', 256, 'P-256'],
          from: at(-1),
          to: at(365),
          self: false,
          serial: '1001',
        }),
      },
    },
    {
      ...base(w.tls10.port),
      state: 'open',
      tls: {
        versions: ['TLSv1'],
        negotiated: { version: 'TLSv1', cipher: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA' },
        ciphers: [
          { version: 'TLSv1', cipher: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', weak: 'cbc-sha1' },
          { version: 'TLSv1', cipher: 'TLS_RSA_WITH_AES_256_CBC_SHA', weak: 'cbc-sha1' },
          { version: 'TLSv1', cipher: 'TLS_RSA_WITH_NULL_SHA', weak: 'null' },
        ],
        certificate: certFacts(w.certs.tls10, {
          subject: 'CN=tls10.scan.test, O=Stockade Tests',
          issuer: CA,
          sans: ['dns:tls10.scan.test'],
          key: ['rsa', 2048],
          from: at(-1),
          to: at(200),
          self: false,
          serial: '1002',
        }),
      },
    },
    {
      ...base(w.expired.port),
      state: 'open',
      tls: {
        versions: ['TLSv1.2', 'TLSv1.3'],
        negotiated: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
        ciphers: [{ version: 'TLSv1.2', cipher: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256' }, ...TLS13],
        certificate: certFacts(w.certs.expired, {
          subject: 'CN=expired.scan.test, O=Stockade Tests',
          issuer: CA,
          sans: ['dns:expired.scan.test'],
          key: ['ec', 256, 'P-256'],
          from: at(-90),
          to: at(-1),
          self: false,
          serial: '1003',
        }),
      },
    },
    {
      ...base(w.weak.port),
      state: 'open',
      tls: {
        versions: ['TLSv1.2', 'TLSv1.3'],
        negotiated: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
        ciphers: [
          { version: 'TLSv1.2', cipher: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384' },
          { version: 'TLSv1.2', cipher: 'TLS_RSA_WITH_AES_128_CBC_SHA', weak: 'cbc-sha1' },
          ...TLS13,
        ],
        certificate: certFacts(w.certs.weak, {
          subject: 'CN=weak.scan.test',
          issuer: 'CN=weak.scan.test',
          sans: [],
          key: ['rsa', 1024],
          from: at(-1),
          to: at(20),
          self: true,
          serial: '1004',
        }),
      },
    },
    { ...base(w.closed), state: 'closed' },
  ];
  return items.sort((a, b) => a.port - b.port) as ScanItem[];
}

test('banner, HTTP, TLS 1.3, TLS 1.0-only, expired, self-signed 1024-bit and closed ports: the exact items and findings', async () => {
  const w = await world();
  try {
    const ports = [w.ssh.port, w.http.port, w.tls13.port, w.tls10.port, w.expired.port, w.weak.port, w.closed];
    const check = await checkScanRequest({ targets: ['127.0.0.1'], ports }, ['127.0.0.1/32']);
    assert.ok(check.ok);
    if (!check.ok) return;
    const result = await runScan(check.plan, { ratePerSecond: 2000, concurrency: 8, httpPorts: [w.http.port], bannerWindowMs: 1000 });
    assert.not.ok(result.aborted);
    assert.equal(result.items, expectedItems(w));

    // The previous run saw only the SSH and HTTP ports open: the four TLS ports are new.
    const previousItems = result.items.map((i) => (i.port === w.ssh.port || i.port === w.http.port ? i : closedNow(i)));
    const findings = scanFindings(result.items, { now: NOW, previousItems, expiryWarningDays: 30 });
    const key = (l: Listener | number, rest: string) => `asm:127.0.0.1:${typeof l === 'number' ? l : l.port}:${rest}`;
    const fp = (p: KeyPair) => sha256(p.der);
    const expected = [
      [key(w.ssh, 'vulnerable-banner:openssh-before-7.3'), 'high'],
      [key(w.ssh, 'vulnerable-banner:openssh-user-enumeration-2018'), 'medium'],
      [key(w.http, 'vulnerable-banner:apache-httpd-path-traversal-2021'), 'critical'],
      [key(w.tls13, 'new-open-port'), 'low'],
      [key(w.tls10, 'new-open-port'), 'low'],
      [key(w.tls10, 'tls-legacy-version'), 'medium'],
      [key(w.tls10, 'weak-cipher:cbc-sha1'), 'low'],
      [key(w.tls10, 'weak-cipher:null'), 'high'],
      [key(w.expired, `cert-expired:${fp(w.certs.expired)}`), 'high'],
      [key(w.expired, 'new-open-port'), 'low'],
      [key(w.weak, `cert-expiring:${fp(w.certs.weak)}`), 'medium'],
      [key(w.weak, `cert-self-signed:${fp(w.certs.weak)}`), 'medium'],
      [key(w.weak, `cert-weak-key:${fp(w.certs.weak)}`), 'high'],
      [key(w.weak, 'new-open-port'), 'low'],
      [key(w.weak, 'weak-cipher:cbc-sha1'), 'low'],
    ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
    assert.equal(
      findings.map((f) => [f.key, f.severity]),
      expected,
    );
    const ssh = findings.find((f) => f.key === key(w.ssh, 'vulnerable-banner:openssh-before-7.3'))!;
    assert.equal(ssh.details, {
      product: 'OpenSSH',
      version: '7.2p2',
      cves: ['CVE-2016-6210', 'CVE-2016-6515'],
      description: 'OpenSSH before 7.3: user enumeration by timing, and denial of service by long passwords',
      source: 'banner',
      text: 'SSH-2.0-OpenSSH_7.2p2 Ubuntu-4ubuntu2.10\\r\\n',
    });
    assert.equal(findings.find((f) => f.kind === 'cert-expiring')!.details.daysLeft, 20);

    // Next run: the same exposures minus the weak server; its findings are remediated, the rest stay open.
    const open = findings.map((f) => f.key);
    const next = result.items.map((i) => (i.port === w.weak.port ? closedNow(i) : i));
    const nextFindings = scanFindings(next, { now: NOW, previousItems: result.items, previousOpenKeys: open });
    const diff = diffFindings(open, nextFindings, next);
    assert.equal(diff.new, []);
    assert.equal(
      diff.remediated,
      expected.map(([k]) => k!).filter((k) => k.includes(`:${w.weak.port}:`)),
    );
    assert.is(diff.stillOpen.length, expected.length - 5, 'new-open-port findings stay open while their port does');
  } finally {
    await w.close();
  }
});

test('the TLS 1.0-only server: versions and accepted suites agree with sslscan (a scanner nobody here wrote)', async () => {
  const w = await world();
  try {
    const check = await checkScanRequest({ targets: ['127.0.0.1'], ports: [w.tls10.port] }, ['127.0.0.1']);
    assert.ok(check.ok);
    const ours = check.ok ? (await runScan(check.plan, { ratePerSecond: 2000 })).items[0]!.tls! : null;
    const { stdout } = await promisify(execFile)('sslscan', [
      '--no-colour',
      '--xml=-',
      '--no-check-certificate',
      '--no-heartbleed',
      '--no-renegotiation',
      '--no-compression',
      '--no-fallback',
      '--no-groups',
      `127.0.0.1:${w.tls10.port}`,
    ]);
    const versions = [...stdout.matchAll(/<protocol type="tls" version="([\d.]+)" enabled="1"/g)].map((m) => (m[1] === '1.0' ? 'TLSv1' : `TLSv${m[1]}`));
    const suites = [...stdout.matchAll(/<cipher status="(?:accepted|preferred)" sslversion="TLSv1\.0"[^>]* id="0x([0-9A-F]{4})"/g)].map((m) =>
      suiteName(Number.parseInt(m[1]!, 16)),
    );
    assert.equal(versions, ['TLSv1']);
    assert.equal(ours?.versions, versions);
    assert.equal(ours?.ciphers.map((c) => c.cipher).sort(), suites.sort());
  } finally {
    await w.close();
  }
});

test('IPv6 and CIDR targets: every address of the block, in numeric order, IPv6 in RFC 5952 form', async () => {
  const v6 = await listen(bannerServer('220 v6 ready\r\n'), '::1');
  const v4 = await listen(bannerServer('220 v4 ready\r\n'), '127.0.0.5');
  try {
    const port = v6.port;
    const ports = [...new Set([port, v4.port])].sort((x, y) => x - y);
    const check = await checkScanRequest({ targets: ['0:0:0:0:0:0:0:1', '127.0.0.4/30'], ports }, ['::1', '127.0.0.0/24']);
    assert.ok(check.ok);
    if (!check.ok) return;
    const { items } = await runScan(check.plan, { ratePerSecond: 2000, bannerWindowMs: 1000 });
    const expected = [];
    for (const a of ['127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7']) {
      for (const p of ports) {
        const isOpen = a === '127.0.0.5' && p === v4.port;
        expected.push({ target: '127.0.0.4/30', address: a, port: p, state: isOpen ? 'open' : 'closed', ...(isOpen ? { banner: '220 v4 ready\\r\\n' } : {}) });
      }
    }
    for (const p of ports) {
      const isOpen = p === port;
      expected.push({ target: '::1', address: '::1', port: p, state: isOpen ? 'open' : 'closed', ...(isOpen ? { banner: '220 v6 ready\\r\\n' } : {}) });
    }
    assert.equal(items, expected);
  } finally {
    await v6.close();
    await v4.close();
  }
});

test('a server whose only suite node no longer offers (NULL-SHA): found by raw hellos, certificate read from the raw handshake', async () => {
  const ca = await makeCa();
  const pair = await issueLeaf(ca, { cn: 'null.scan.test', names: ['null.scan.test'], notBefore: at(-1), notAfter: at(100), serial: '2001', rsaBits: 2048 });
  const l = await listen(tlsServer(pair, { minVersion: 'TLSv1', maxVersion: 'TLSv1.2', ciphers: 'NULL-SHA:@SECLEVEL=0' }));
  try {
    const check = await checkScanRequest({ targets: ['127.0.0.1'], ports: [l.port] }, ['127.0.0.1']);
    assert.ok(check.ok);
    if (!check.ok) return;
    const { items } = await runScan(check.plan, { ratePerSecond: 2000 });
    const versions = ['TLSv1', 'TLSv1.1', 'TLSv1.2'];
    assert.equal(items[0]!.tls, {
      versions,
      negotiated: null,
      ciphers: versions.map((version) => ({ version, cipher: 'TLS_RSA_WITH_NULL_SHA', weak: 'null' })),
      certificate: certFacts(pair, {
        subject: 'CN=null.scan.test, O=Stockade Tests',
        issuer: CA,
        sans: ['dns:null.scan.test'],
        key: ['rsa', 2048],
        from: at(-1),
        to: at(100),
        self: false,
        serial: '2001',
      }),
    });
    assert.equal(
      scanFindings(items, { now: NOW }).map((f) => f.key.split(':').slice(3).join(':')),
      ['tls-legacy-version', 'weak-cipher:null'],
    );
  } finally {
    await l.close();
  }
});

test.run();
