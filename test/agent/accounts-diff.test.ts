import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { diffIdentity, HostRoot, type IdentitySnapshot, takeIdentitySnapshot } from '../../src/agent/mod.ts';
import { tempDir } from '../helpers/nats.ts';
import { writeTree } from './fixture.ts';
import { GROUP, PASSWD, SHADOW, SUDOERS } from './identity-fixture.ts';

const test = suite('agent: local identity changes between two snapshots');
const run = promisify(execFile);

async function keygen(dir: string, comment: string): Promise<string> {
  const f = join(dir, `key-${comment.replace(/\W/g, '_')}`);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', f]);
  return (await readFile(`${f}.pub`, 'utf8')).trim();
}

const OPS = 'User_Alias OPS = bob, dave : AUDIT = %admins, !frank\nOPS ALL = NOPASSWD: /usr/bin/systemctl\nAUDIT ALL = (root) /usr/bin/journalctl\n';

test('added, removed and modified accounts, keys, sudo and group members, each once and in order', async () => {
  const dir = await tempDir('stk-diff-');
  try {
    const r = dir.path;
    const root = new HostRoot(r);
    const [alice1, alice2, root1] = [await keygen(r, 'alice1'), await keygen(r, 'alice2'), await keygen(r, 'root1')];
    await writeTree(r, {
      'etc/passwd': PASSWD,
      'etc/shadow': SHADOW,
      'etc/group': GROUP,
      'etc/sudoers': SUDOERS,
      'etc/sudoers.d/10-ops': OPS,
      'home/alice/.ssh/authorized_keys': `${alice1}\n`,
      'root/.ssh/authorized_keys': `${root1}\n`,
    });
    const before = await takeIdentitySnapshot(root);
    assert.equal(diffIdentity(before, await takeIdentitySnapshot(root)), [], 'nothing changed, nothing to report');

    await writeTree(r, {
      'etc/passwd': PASSWD.replace('dave:x:1003:1003::/home/dave:/bin/sh', 'dave:x:1003:1003::/home/dave:/bin/bash')
        .replace('svc2:x:1006:1006::/srv:/usr/sbin/nologin\n', '')
        .concat('mallory:x:0:0::/home/mallory:/bin/bash\n'),
      'etc/shadow': SHADOW.replace('alice:$6$salt$hashhashhash', 'alice:!$6$salt$hashhashhash').concat('mallory::19800:0:99999:7:::\n'),
      'etc/group': GROUP.replace('sudo:x:27:alice', 'sudo:x:27:alice,carol').replace('admins:x:1500:bob,frank,eve', 'admins:x:1500:frank,eve'),
      'home/alice/.ssh/authorized_keys': `${alice1}\n${alice2}\n`,
      'root/.ssh/authorized_keys': '',
    });
    const after = await takeIdentitySnapshot(root);
    // What the state folder keeps is JSON: the diff must work on the parsed copy as well.
    const saved = JSON.parse(JSON.stringify(before)) as IdentitySnapshot;
    const changes = diffIdentity(saved, after);
    const fp = (line: string) => after.accounts.find((a) => a.name === 'alice')!.keys.find((k) => k.comment === line.split(' ')[2])?.fingerprint;
    const rootFp = before.accounts.find((a) => a.name === 'root')!.keys[0]!.fingerprint;
    assert.equal(
      changes.map((c) => [c.change, c.account, c.uid, c.group, c.privileged]),
      [
        ['modified', 'alice', 1000, null, true],
        ['key-added', 'alice', 1000, null, true],
        ['sudo-removed', 'bob', 1001, null, true],
        ['sudo-added', 'carol', 1002, null, true],
        ['modified', 'dave', 1003, null, true],
        ['added', 'mallory', 0, null, true],
        ['key-removed', 'root', 0, null, true],
        ['removed', 'svc2', 1006, null, false],
        ['key-removed', 'toor', 0, null, true],
        ['group-member-removed', 'bob', 1001, 'admins', true],
        ['group-member-added', 'carol', 1002, 'sudo', true],
      ],
    );
    for (const c of changes) {
      assert.is(c.kind, 'account-change');
      assert.is(c.source, 'local');
    }
    const by = (change: string, account: string) => changes.find((c) => c.change === change && c.account === account)!.details;
    assert.equal(by('modified', 'alice'), { changes: { password: { from: 'set', to: 'locked' } }, flags: [] });
    assert.equal(by('key-added', 'alice'), {
      fingerprint: fp(alice2),
      type: 'ssh-ed25519',
      comment: 'alice2',
      file: '/home/alice/.ssh/authorized_keys',
      options: null,
    });
    assert.equal(by('key-removed', 'root'), { fingerprint: rootFp, type: 'ssh-ed25519', comment: 'root1', file: '/root/.ssh/authorized_keys' });
    assert.equal(by('sudo-removed', 'bob'), { via: ['OPS'], removed: ['AUDIT'] });
    assert.equal(by('sudo-added', 'carol'), { via: ['%sudo'], added: ['%sudo'], noPassword: false });
    assert.equal(by('modified', 'dave'), { changes: { shell: { from: '/bin/sh', to: '/bin/bash' } }, flags: [] });
    assert.equal(by('added', 'mallory'), {
      uid: 0,
      gid: 0,
      home: '/home/mallory',
      shell: '/bin/bash',
      password: 'empty',
      groups: [],
      sudo: [],
      flags: ['extra-uid-0', 'empty-password'],
    });
    assert.equal(by('group-member-removed', 'bob'), { gid: 1500 });
    // admins is privileged only because sudoers grants it through an alias.
    assert.equal(after.sudoGroups, ['admins', 'sudo']);
  } finally {
    await dir.cleanup();
  }
});

test('a new account that arrives with sudo and a key yields added, key-added and sudo-added', async () => {
  const dir = await tempDir('stk-diff2-');
  try {
    const r = dir.path;
    const key = await keygen(r, 'intruder');
    await writeTree(r, { 'etc/passwd': 'root:x:0:0::/root:/bin/sh\n', 'etc/group': 'root:x:0:\nwheel:x:10:\n', 'etc/sudoers': '%wheel ALL=(ALL) ALL\n' });
    const before = await takeIdentitySnapshot(new HostRoot(r));
    await writeTree(r, {
      'etc/passwd': 'root:x:0:0::/root:/bin/sh\nnewbie:x:1200:1200::/home/newbie:/bin/sh\n',
      'etc/group': 'root:x:0:\nwheel:x:10:newbie\n',
      'home/newbie/.ssh/authorized_keys': `${key}\n`,
    });
    const changes = diffIdentity(before, await takeIdentitySnapshot(new HostRoot(r)));
    assert.equal(
      changes.map((c) => [c.change, c.account, c.group]),
      [
        ['added', 'newbie', null],
        ['key-added', 'newbie', null],
        ['sudo-added', 'newbie', null],
        ['group-member-added', 'newbie', 'wheel'],
      ],
    );
    assert.ok(changes.every((c) => c.privileged));
    // And back: removed, key-removed, sudo-removed, group-member-removed.
    const back = diffIdentity(await takeIdentitySnapshot(new HostRoot(r)), before);
    assert.equal(
      back.map((c) => c.change),
      ['removed', 'key-removed', 'sudo-removed', 'group-member-removed'],
    );
  } finally {
    await dir.cleanup();
  }
});

test.run();
