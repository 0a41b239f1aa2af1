import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AccountChangeItem } from '../../src/telemetry/types.ts';
import type { Doc } from '../../src/store/model.ts';
import { docId } from '../telemetry.ts';
import { event, run } from '../testing.ts';
import { type IdentityDoc, identitiesProjection, identityId } from './projection.ts';

const test = suite('projection: identities (from account-change telemetry)');
const change = (c: Partial<AccountChangeItem>) =>
  event(
    'telemetry.account-change',
    { type: 'agent', id: 'ag' },
    {
      kind: 'account-change',
      source: 'local',
      change: 'added',
      account: 'bob',
      uid: 1001,
      group: null,
      privileged: false,
      details: {},
      ...c,
    },
  );
const doc = (docs: Map<string, Doc>, account: string, source = 'local'): IdentityDoc =>
  docs.get(`t/identities/${identityId('ag', source, account)}`) as IdentityDoc;

test('a local account: baseline, sudo through a group, keys, flags; privilege and risk follow the changes', () => {
  const { docs } = run(identitiesProjection, [
    change({ details: { uid: 1001, groups: [], sudo: [], flags: [], baseline: true } }),
    change({ change: 'group-member-added', group: 'sudo', privileged: true, details: { gid: 27 } }),
    change({ change: 'key-added', details: { fingerprint: 'SHA256:abc' } }),
    change({ change: 'modified', details: { changes: { password: { from: 'hashed', to: 'empty' } }, flags: ['empty-password'] } }),
  ]);
  const bob = doc(docs, 'bob');
  assert.equal(
    [bob.privileged, bob.privilegedGroups, bob.groups, bob.keys, bob.risky, bob.flags, bob.changes],
    [true, ['sudo'], ['sudo'], ['SHA256:abc'], true, ['empty-password'], 4],
  );
  const group = docs.get(`t/identity-groups/${docId('ag', 'local', 'sudo')}`)!;
  assert.equal([group.members, group.privileged], [['bob'], true]);
  const after = run(identitiesProjection, [
    change({ details: { flags: [] } }),
    change({ change: 'group-member-added', group: 'sudo', privileged: true, details: {} }),
    change({ change: 'group-member-removed', group: 'sudo', privileged: true, details: {} }),
    change({ change: 'removed', details: {} }),
  ]);
  const gone = doc(after.docs, 'bob');
  assert.equal([gone.present, gone.privileged, gone.privilegedGroups], [false, false, []]);
  assert.equal(after.docs.get(`t/identity-groups/${docId('ag', 'local', 'sudo')}`)!.members, []);
  const history = [...after.docs.entries()].filter(([k]) => k.startsWith('t/identity-changes/')).map(([, v]) => v.change);
  assert.equal(history, ['added', 'group-member-added', 'group-member-removed', 'removed']);
});

test('a directory account: UAC flags, modifications, SID kept for linking findings; uid 0 locally is privileged by itself', () => {
  const { docs } = run(identitiesProjection, [
    change({ source: 'directory', account: 'svc-sql', uid: null, details: { sid: 'S-1-5-21-1-2-3-1105', enabled: true, flags: ['NORMAL_ACCOUNT'] } }),
    change({ source: 'directory', account: 'svc-sql', uid: null, change: 'modified', details: { sid: 'S-1-5-21-1-2-3-1105', what: 'preauth-not-required' } }),
    change({ source: 'directory', account: 'svc-sql', uid: null, change: 'modified', details: { sid: 'S-1-5-21-1-2-3-1105', what: 'disabled' } }),
    change({ account: 'toor', uid: 0, details: { flags: ['extra-uid-0'] } }),
  ]);
  const svc = doc(docs, 'svc-sql', 'directory');
  assert.equal([svc.sid, svc.enabled, svc.risky, svc.flags], ['S-1-5-21-1-2-3-1105', false, true, ['ACCOUNTDISABLE', 'DONT_REQ_PREAUTH', 'NORMAL_ACCOUNT']]);
  const toor = doc(docs, 'toor');
  assert.equal([toor.privileged, toor.risky], [true, true]);
});

test.run();
