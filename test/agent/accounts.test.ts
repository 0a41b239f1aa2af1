import { execFile } from 'node:child_process';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HostRoot, type IdentitySnapshot, localFindings, parseAuthorizedKeys, passwordStatus, takeIdentitySnapshot } from '../../src/agent/mod.ts';
import { tempDir } from '../helpers/nats.ts';
import { writeTree } from './fixture.ts';
import { GROUP, PASSWD, SHADOW, SUDOERS } from './identity-fixture.ts';

const test = suite('agent: local accounts on a prepared root');
const run = promisify(execFile);

const ctx = {} as { dir: { path: string; cleanup(): Promise<void> }; keys: Record<string, string>; snap: IdentitySnapshot };

/** A fresh key pair made by OpenSSH's own ssh-keygen; returns the public line. */
async function keygen(type: 'ed25519' | 'ecdsa', comment: string): Promise<string> {
  const f = join(ctx.dir.path, `key-${comment.replace(/\W/g, '_')}`);
  await run('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', comment, '-f', f]);
  return (await readFile(`${f}.pub`, 'utf8')).trim();
}

/** What ssh-keygen -lf says the fingerprints of a file are. */
async function sshKeygenFingerprints(file: string): Promise<string[]> {
  const { stdout } = await run('ssh-keygen', ['-lf', file]);
  return stdout
    .trim()
    .split('\n')
    .map((l) => l.split(' ')[1]!);
}

test.before(async () => {
  ctx.dir = await tempDir('stk-acct-');
  const r = join(ctx.dir.path, 'root');
  ctx.keys = {
    alice1: await keygen('ed25519', 'alice@laptop'),
    alice2: await keygen('ecdsa', 'alice@phone'),
    root1: await keygen('ed25519', 'ops@bastion'),
  };
  const k1 = ctx.keys.alice1!.split(' ');
  await writeTree(r, {
    'etc/passwd': PASSWD,
    'etc/shadow': SHADOW,
    'etc/group': GROUP,
    'etc/sudoers': SUDOERS,
    'etc/sudoers.d/10-ops': [
      'User_Alias OPS = bob, \\',
      '    dave : AUDIT = %admins, !frank',
      'OPS ALL = NOPASSWD: /usr/bin/systemctl',
      'AUDIT SERVERS = (root) /usr/bin/journalctl # audit trail',
      '#1005 ALL = (ALL) SHUTDOWN',
      '#include ../sudoers.local',
      '',
    ].join('\n'),
    'etc/sudoers.local': '%#1002 ALL=(ALL) ALL\n',
    'etc/sudoers.d/README.txt': 'carol ALL=(ALL) ALL\n', // has a dot: sudo skips it
    'etc/sudoers.d/old~': 'dave ALL=(ALL) ALL\n', // editor backup: skipped
    'home/alice/.ssh/authorized_keys': [
      '# alice’s keys',
      `from="10.0.0.0/8",command="echo hi there" ${ctx.keys.alice1}`,
      '',
      ctx.keys.alice2,
      `ssh-rsa ${k1[1]} type-and-blob-disagree`,
      'ssh-ed25519 not!base64 junk',
      '',
    ].join('\n'),
    'root/.ssh/authorized_keys': `${ctx.keys.root1}\n`,
  });
  // A home whose key file is a link out of the root: it is read inside the root, where it is absent.
  await writeTree(r, { 'home/bob/.ssh/.keep': '' });
  await symlink('/root/.ssh/authorized_keys', join(r, 'home/bob/.ssh/authorized_keys2'));
  ctx.snap = await takeIdentitySnapshot(new HostRoot(r));
});

test.after(async () => {
  await ctx.dir.cleanup();
});

test('password status never carries a hash', () => {
  assert.equal(['', '!', '!!', '*', '!*', '!$6$x$y', '$6$x$y', 'x', '*LK*'].map(passwordStatus), [
    'empty',
    'none',
    'none',
    'none',
    'none',
    'locked',
    'set',
    'none',
    'none',
  ]);
  const text = JSON.stringify(ctx.snap);
  for (const secret of ['hashhashhash', 'lockedhash', '$6$', '$y$', 'ignored']) assert.not.ok(text.includes(secret), `snapshot holds ${secret}`);
});

test('accounts: status, dates, groups, first line wins, malformed lines reported', () => {
  const a = Object.fromEntries(ctx.snap.accounts.map((x) => [x.name, x]));
  assert.equal(Object.keys(a), ['alice', 'bob', 'carol', 'daemon', 'dave', 'eve', 'frank', 'root', 'svc', 'svc2', 'toor']);
  assert.equal(
    ctx.snap.accounts.map((x) => [x.name, x.password]),
    [
      ['alice', 'set'],
      ['bob', 'locked'],
      ['carol', 'empty'],
      ['daemon', 'none'],
      ['dave', 'none'], // no shadow line
      ['eve', 'empty'], // passwd's own field is empty, whatever shadow says
      ['frank', 'set'],
      ['root', 'set'],
      ['svc', 'none'],
      ['svc2', 'none'],
      ['toor', 'set'],
    ],
  );
  assert.is(a.alice!.uid, 1000, 'the first alice line counts');
  assert.is(a.alice!.gecos, 'Alice A,,,');
  assert.is(a.alice!.primaryGroup, 'alice');
  assert.is(a.alice!.lastChange, '2023-12-10');
  assert.is(a.toor!.mustChangePassword, true);
  assert.is(a.frank!.expiresOn, '2022-01-08');
  assert.equal(a.frank!.groups, ['admins', 'docker']);
  assert.ok(ctx.snap.warnings.some((w) => w.includes('broken:line')));
  assert.ok(ctx.snap.warnings.some((w) => w.includes('alice is listed twice')));
});

test('sudoers: includes, includedir rules, aliases with negation, continuation lines, uid and gid forms, comments', () => {
  const sudo = Object.fromEntries(ctx.snap.accounts.map((x) => [x.name, [x.sudo, x.sudoNoPassword]]));
  assert.equal(sudo, {
    alice: [['%sudo'], false],
    bob: [['AUDIT', 'OPS'], true],
    carol: [['%#1002'], false], // from the relative #include of sudoers.local
    daemon: [[], false],
    dave: [['OPS'], true], // the continuation line of the alias
    eve: [['AUDIT'], false],
    frank: [['#1005'], false], // !frank keeps frank out of AUDIT; the uid rule lets him in
    root: [['root'], false],
    svc: [[], false],
    svc2: [[], false],
    toor: [[], false],
  });
  assert.equal(ctx.snap.sudoFiles, ['/etc/sudoers', '/etc/sudoers.d/10-ops', '/etc/sudoers.local']);
});

test('authorized_keys: fingerprints as ssh-keygen -lf gives them, options kept, junk skipped, links stay in the root', async () => {
  const alice = ctx.snap.accounts.find((x) => x.name === 'alice')!;
  const file = join(ctx.dir.path, 'root/home/alice/.ssh/authorized_keys');
  assert.equal(
    alice.keys.map((k) => k.fingerprint),
    await sshKeygenFingerprints(file),
  );
  assert.equal(
    alice.keys.map((k) => [k.type, k.comment, k.options, k.file, k.line]),
    [
      ['ssh-ed25519', 'alice@laptop', 'from="10.0.0.0/8",command="echo hi there"', '/home/alice/.ssh/authorized_keys', 2],
      ['ecdsa-sha2-nistp256', 'alice@phone', null, '/home/alice/.ssh/authorized_keys', 4],
    ],
  );
  const root = ctx.snap.accounts.find((x) => x.name === 'root')!;
  assert.equal(
    root.keys.map((k) => k.fingerprint),
    await sshKeygenFingerprints(join(ctx.dir.path, 'root/root/.ssh/authorized_keys')),
  );
  // toor shares root's home, so root's keys open toor too.
  assert.equal(ctx.snap.accounts.find((x) => x.name === 'toor')!.keys.length, 1);
  // bob's authorized_keys2 links to /root/.ssh/authorized_keys inside the root: that is root's file.
  assert.equal(
    ctx.snap.accounts.find((x) => x.name === 'bob')!.keys.map((k) => [k.fingerprint, k.file]),
    [[root.keys[0]!.fingerprint, '/home/bob/.ssh/authorized_keys2']],
  );
  assert.equal(parseAuthorizedKeys('ssh-ed25519\n\n# only comments\n', '/x'), []);
});

test('findings: extra uid 0, empty passwords, shared uids, sudo without password, root keys', () => {
  const f = localFindings(ctx.snap).map((x) => [x.finding, x.account, x.severity]);
  assert.equal(f, [
    ['sudo-no-password', 'bob', 'medium'],
    ['empty-password', 'carol', 'high'],
    ['sudo-no-password', 'dave', 'medium'],
    ['empty-password', 'eve', 'high'],
    ['root-authorized-keys', 'root', 'low'],
    ['duplicate-uid', 'svc', 'medium'],
    ['duplicate-uid', 'svc2', 'medium'],
    ['extra-uid-0', 'toor', 'high'],
    ['root-authorized-keys', 'toor', 'low'],
  ]);
});

test('sudo for everyone is a finding on every account', async () => {
  const dir = await tempDir('stk-acct-all-');
  try {
    await writeTree(dir.path, {
      'etc/passwd': 'root:x:0:0::/root:/bin/sh\nu1:x:1000:1000::/home/u1:/bin/sh\n',
      'etc/sudoers': 'ALL ALL=(ALL) NOPASSWD: ALL\n',
    });
    const snap = await takeIdentitySnapshot(new HostRoot(dir.path));
    assert.equal(
      localFindings(snap).map((x) => [x.finding, x.account]),
      [
        ['sudo-all-users', 'root'],
        ['sudo-no-password', 'root'],
        ['sudo-all-users', 'u1'],
        ['sudo-no-password', 'u1'],
      ],
    );
    // No shadow, no group, no sudoers.d: nothing to warn about beyond what is there.
    assert.equal(snap.warnings, []);
    await writeFile(join(dir.path, 'etc/sudoers'), '#include /etc/missing\n#includedir /etc/nodir\nthis is not sudoers\n');
    const snap2 = await takeIdentitySnapshot(new HostRoot(dir.path));
    assert.is(snap2.warnings.length, 3, snap2.warnings.join('\n'));
  } finally {
    await dir.cleanup();
  }
});

test.run();
