import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePolicy, parsePrintUris, parseShowpkgVersions, parseSimulation } from '../../../src/agent/patch/apt-output.ts';
import { cvesFixedBetween, parseChangelog } from '../../../src/agent/patch/changelog.ts';
import { clearsignedBody, parseDeb822 } from '../../../src/agent/patch/deb822.ts';

const test = suite('patch: parsers of dpkg and apt text');

test('deb822: stanzas, continuation lines, CRLF, comments, trailing stanza without a blank line', () => {
  const text =
    'Package: a\r\nVersion: 1.0\r\nDescription: short\r\n long line one\r\n .\r\n\r\n# comment\r\nPackage: b\nStatus: install ok installed\n  \nPackage: c\nVersion: 2';
  const s = parseDeb822(text);
  assert.equal(s, [
    { Package: 'a', Version: '1.0', Description: 'short\nlong line one\n.' },
    { Package: 'b', Status: 'install ok installed' },
    { Package: 'c', Version: '2' },
  ]);
  const seen: string[] = [];
  assert.equal(
    parseDeb822(text, (x) => seen.push(x.Package!)),
    [],
  );
  assert.equal(seen, ['a', 'b', 'c']);
});

test('clearsignedBody: the signed fields of an InRelease, dash-escaping undone', () => {
  const inrelease = [
    '-----BEGIN PGP SIGNED MESSAGE-----',
    'Hash: SHA512',
    '',
    'Origin: Debian',
    'Label: Debian-Security',
    'Date: Sat, 29 Nov 2025 09:27:18 UTC',
    '- -----not a signature-----',
    '-----BEGIN PGP SIGNATURE-----',
    '',
    'iQIz...',
    '-----END PGP SIGNATURE-----',
    '',
  ].join('\n');
  const body = clearsignedBody(inrelease);
  assert.ok(body.includes('-----not a signature-----') && !body.includes('iQIz'));
  const [s] = parseDeb822(body);
  assert.is(s!.Label, 'Debian-Security');
  assert.is(s!.Date, 'Sat, 29 Nov 2025 09:27:18 UTC');
  assert.is(clearsignedBody('Origin: x\n'), 'Origin: x\n');
});

test('changelog: only the entries above the installed version and up to the candidate count', () => {
  const text = [
    'openssl (3.0.15-1~deb12u1) bookworm-security; urgency=medium',
    '',
    '  * Fix CVE-2024-5535 and CVE-2024-9143.',
    '',
    ' -- Security Team <team@security.debian.org>  Mon, 28 Oct 2024 00:00:00 +0000',
    '',
    'openssl (3.0.14-1~deb12u2) bookworm; urgency=medium',
    '',
    '  * Fix CVE-2024-4741 (CVE-2024-4741 named twice).',
    '',
    ' -- Maintainer <m@example.invalid>  Mon, 01 Jul 2024 00:00:00 +0000',
    '',
    'openssl (3.0.11-1~deb12u2) bookworm-security; urgency=medium',
    '',
    '  * Fix CVE-2023-5678.',
    '',
    ' -- Security Team <team@security.debian.org>  Mon, 01 Nov 2023 00:00:00 +0000',
  ].join('\n');
  const entries = parseChangelog(text);
  assert.equal(
    entries.map((e) => [e.source, e.version, e.distributions, e.urgency]),
    [
      ['openssl', '3.0.15-1~deb12u1', 'bookworm-security', 'medium'],
      ['openssl', '3.0.14-1~deb12u2', 'bookworm', 'medium'],
      ['openssl', '3.0.11-1~deb12u2', 'bookworm-security', 'medium'],
    ],
  );
  assert.equal(cvesFixedBetween(entries, '3.0.11-1~deb12u2', '3.0.15-1~deb12u1'), ['CVE-2024-4741', 'CVE-2024-5535', 'CVE-2024-9143']);
  assert.equal(cvesFixedBetween(entries, '3.0.14-1~deb12u2', '3.0.14-1~deb12u2'), []);
  assert.equal(cvesFixedBetween(entries, null, '3.0.11-1~deb12u2'), ['CVE-2023-5678']);
});

test('apt-get -s: upgrades, new installs, removals and the kept-back list', () => {
  const out = [
    'Reading package lists...',
    'The following packages have been kept back:',
    '  stk-broken linux-image-amd64',
    'The following packages will be upgraded:',
    '  libssl3 openssl',
    'Inst libssl3 [3.0.11-1~deb12u1] (3.0.15-1~deb12u1 Debian-Security:12/stable-security [amd64])',
    'Inst libfoo:i386 [1.0] (1.1 Debian:12.8/stable [i386]) []',
    'Inst newdep (2.0 Debian:12.8/stable [all])',
    'Remv oldthing [0.9]',
    'Conf libssl3 (3.0.15-1~deb12u1 Debian-Security:12/stable-security [amd64])',
  ].join('\n');
  const sim = parseSimulation(out);
  assert.equal(sim.upgrades, [
    { package: 'libssl3', from: '3.0.11-1~deb12u1', to: '3.0.15-1~deb12u1', architecture: 'amd64', releases: 'Debian-Security:12/stable-security' },
    { package: 'libfoo:i386', from: '1.0', to: '1.1', architecture: 'i386', releases: 'Debian:12.8/stable' },
  ]);
  assert.equal(
    sim.installs.map((i) => [i.package, i.from, i.to]),
    [['newdep', null, '2.0']],
  );
  assert.equal(sim.removals, [{ package: 'oldthing', from: '0.9' }]);
  assert.equal(sim.keptBack, ['stk-broken', 'linux-image-amd64']);
});

test('apt-cache showpkg: list files per version; policy: installed and candidate', () => {
  const showpkg = [
    'Package: stk-demo',
    'Versions: ',
    '1.1 (/r/var/lib/apt/lists/_repo-sec_._Packages)',
    ' Description Language: ',
    '                 File: /r/var/lib/apt/lists/_repo-sec_._Packages',
    '',
    '1.0 (/r/var/lib/apt/lists/_repo_._Packages) (/r/var/lib/dpkg/status)',
    '',
    'Reverse Depends: ',
    '  other,stk-demo 1.0',
    'Dependencies: ',
    '1.1 - ',
    'Package: b',
    'Versions: ',
    '2 (/x_Packages)',
  ].join('\n');
  const v = parseShowpkgVersions(showpkg);
  assert.equal(v.get('stk-demo')?.get('1.1'), ['/r/var/lib/apt/lists/_repo-sec_._Packages']);
  assert.equal(v.get('stk-demo')?.get('1.0'), ['/r/var/lib/apt/lists/_repo_._Packages', '/r/var/lib/dpkg/status']);
  assert.is(v.get('stk-demo')?.size, 2);
  assert.equal(v.get('b')?.get('2'), ['/x_Packages']);

  const policy = parsePolicy('stk-demo:\n  Installed: 1.0\n  Candidate: 1.1\n  Version table:\nnot-there:\n  Installed: (none)\n  Candidate: (none)\n');
  assert.equal(policy.get('stk-demo'), { installed: '1.0', candidate: '1.1' });
  assert.equal(policy.get('not-there'), { installed: null, candidate: null });
});

test('apt-get --print-uris: uri, file name and size', () => {
  assert.equal(
    parsePrintUris(
      "'file:/tmp/repo/./stk-demo_1.1_all.deb' stk-demo_1.1_all.deb 1088 SHA512:1e78\n'http://h/p/o/openssl_3.0.15-1%7edeb12u1_amd64.deb' openssl_3.0.15-1~deb12u1_amd64.deb 1428000 SHA256:ab\n",
    ),
    [
      { uri: 'file:/tmp/repo/./stk-demo_1.1_all.deb', filename: 'stk-demo_1.1_all.deb', sizeBytes: 1088 },
      { uri: 'http://h/p/o/openssl_3.0.15-1%7edeb12u1_amd64.deb', filename: 'openssl_3.0.15-1~deb12u1_amd64.deb', sizeBytes: 1428000 },
    ],
  );
});

test.run();
