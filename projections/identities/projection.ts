import type { AccountChangeItem } from '../../src/telemetry/types.ts';
import type { EventEnvelope } from '../../src/domain/events.ts';
import type { Doc, Write } from '../../src/store/model.ts';
import { defineProjection } from '../define.ts';
import { docId } from '../telemetry.ts';

/** Flags that make an account risky by themselves (local: from the account-change details; directory: userAccountControl). */
export const RISKY_FLAGS: ReadonlySet<string> = new Set([
  'extra-uid-0',
  'empty-password',
  'sudo-no-password',
  'DONT_REQ_PREAUTH',
  'DONT_EXPIRE_PASSWORD',
  'PASSWD_NOTREQD',
  'spn',
]);

/** An account one agent reports (a local account of its host, or a directory account it reads). */
export interface IdentityDoc extends Doc {
  agentId: string;
  source: 'local' | 'directory';
  account: string;
  uid: number | null;
  /** The directory SID, which findings name (`ad:<sid>:<kind>`). */
  sid: string | null;
  present: boolean;
  /** uid 0, sudo, or a member of a privileged group. */
  privileged: boolean;
  /** Every group membership reported, and those of privileged groups. */
  groups: string[];
  privilegedGroups: string[];
  /** The sudoers items that grant it sudo. */
  sudo: string[];
  /** SHA-256 fingerprints of its SSH authorized keys. */
  keys: string[];
  flags: string[];
  risky: boolean;
  enabled: boolean | null;
  firstSeenAt: string;
  lastChangedAt: string;
  lastChange: string;
  changes: number;
}

/** One change, as the history of an account shows it; `itemId` names its telemetry item (what a proof is asked for). */
export interface IdentityChangeDoc extends Doc, Omit<AccountChangeItem, 'kind'> {
  agentId: string;
  identityId: string;
  at: string;
  /** The item's id, `<batch>:<index>` (`telemetryItemId`). */
  itemId: string;
}

/** A group with privileged members, as the agents report its membership. */
export interface IdentityGroupDoc extends Doc {
  agentId: string;
  source: 'local' | 'directory';
  group: string;
  privileged: boolean;
  members: string[];
}

/** The id of an account's document: per agent, source and account name. */
export function identityId(agentId: string, source: string, account: string): string {
  return docId(agentId, source, account);
}

const sortedSet = (xs: Iterable<string>): string[] => [...new Set(xs)].sort();
const without = (xs: readonly string[], x: string): string[] => xs.filter((v) => v !== x);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/**
 * Accounts, their changes and privileged groups, from `account-change` telemetry. An agent's first
 * identity snapshot is reported as changes from nothing (every account `added`, every membership
 * `group-member-added`, `details.baseline: true`), so the model knows every account, not only
 * those that changed. Findings about an account are linked to it at read time by their subject.
 */
export const identitiesProjection = defineProjection({
  model: 'identities',
  main: 'identities',
  collections: {
    identities: { indexes: ['agentId', 'account', 'source', 'privileged', 'risky', 'present'], scan: ['uid', 'sid'] },
    'identity-changes': { indexes: ['agentId', 'identityId', 'account', 'change'], writeOnce: true },
    'identity-groups': { indexes: ['agentId', 'privileged'], scan: ['group', 'source'] },
  },
  on: {
    'telemetry.account-change': {
      reads: (e) => {
        const c = e.data as AccountChangeItem;
        return [
          { collection: 'identities', id: identityId(e.aggregate.id, c.source, c.account) },
          ...(c.group ? [{ collection: 'identity-groups', id: docId(e.aggregate.id, c.source, c.group) }] : []),
        ];
      },
      apply: (e, docs, seq) => {
        const c = e.data as AccountChangeItem;
        const group = c.group ? docs.get<IdentityGroupDoc>('identity-groups', docId(e.aggregate.id, c.source, c.group)) : undefined;
        return applyChange(e, docs.get<IdentityDoc>('identities', identityId(e.aggregate.id, c.source, c.account)), group, seq);
      },
    },
  },
});

function applyChange(e: EventEnvelope, old: IdentityDoc | undefined, group: IdentityGroupDoc | undefined, seq: number): Write[] {
  const c = e.data as AccountChangeItem;
  const agentId = e.aggregate.id;
  const id = identityId(agentId, c.source, c.account);
  const d = c.details ?? {};
  const base: IdentityDoc = old ?? {
    id,
    seq,
    agentId,
    source: c.source,
    account: c.account,
    uid: c.uid,
    sid: typeof d.sid === 'string' ? d.sid : null,
    present: true,
    privileged: false,
    groups: [],
    privilegedGroups: [],
    sudo: [],
    keys: [],
    flags: [],
    risky: false,
    enabled: null,
    firstSeenAt: e.at,
    lastChangedAt: e.at,
    lastChange: c.change,
    changes: 0,
  };
  const next: IdentityDoc = { ...base, seq, lastChangedAt: e.at, lastChange: c.change, changes: base.changes + 1, uid: c.uid ?? base.uid };
  if (typeof d.sid === 'string') next.sid = d.sid;
  const groupWrites: Write[] = [];
  switch (c.change) {
    case 'added':
      next.present = true;
      if (c.source === 'local') {
        next.flags = sortedSet(strings(d.flags));
        next.groups = sortedSet([...next.groups, ...strings(d.groups)]);
        next.sudo = sortedSet(strings(d.sudo));
      } else {
        next.flags = sortedSet(strings(d.flags));
        next.enabled = typeof d.enabled === 'boolean' ? d.enabled : null;
      }
      break;
    case 'removed':
      next.present = false;
      break;
    case 'modified':
      if (c.source === 'local') {
        if (Array.isArray(d.flags)) next.flags = sortedSet(strings(d.flags));
      } else {
        const what = d.what;
        if (what === 'disabled') {
          next.enabled = false;
          next.flags = sortedSet([...next.flags, 'ACCOUNTDISABLE']);
        } else if (what === 'enabled') {
          next.enabled = true;
          next.flags = without(next.flags, 'ACCOUNTDISABLE');
        } else if (what === 'spn-added') next.flags = sortedSet([...next.flags, 'spn']);
        else if (what === 'preauth-not-required') next.flags = sortedSet([...next.flags, 'DONT_REQ_PREAUTH']);
        else if (what === 'password-never-expires') next.flags = sortedSet([...next.flags, 'DONT_EXPIRE_PASSWORD']);
      }
      break;
    case 'group-member-added':
    case 'group-member-removed': {
      const g = c.group ?? '';
      const added = c.change === 'group-member-added';
      next.groups = added ? sortedSet([...next.groups, g]) : without(next.groups, g);
      if (c.privileged) next.privilegedGroups = added ? sortedSet([...next.privilegedGroups, g]) : without(next.privilegedGroups, g);
      if (g) {
        const gd: IdentityGroupDoc = group ?? {
          id: docId(agentId, c.source, g),
          seq,
          agentId,
          source: c.source,
          group: g,
          privileged: c.privileged,
          members: [],
        };
        const members = added ? sortedSet([...gd.members, c.account]) : without(gd.members, c.account);
        groupWrites.push({ collection: 'identity-groups', id: gd.id, doc: { ...gd, privileged: gd.privileged || c.privileged, members } });
      }
      break;
    }
    case 'key-added':
    case 'key-removed': {
      const fp = typeof d.fingerprint === 'string' ? d.fingerprint : '';
      next.keys = c.change === 'key-added' ? sortedSet([...next.keys, fp]) : without(next.keys, fp);
      break;
    }
    case 'sudo-added':
      next.sudo = sortedSet(strings(d.via));
      if (d.noPassword === true) next.flags = sortedSet([...next.flags, 'sudo-no-password']);
      break;
    case 'sudo-removed':
      next.sudo = sortedSet(strings(d.via));
      if (next.sudo.length === 0) next.flags = without(next.flags, 'sudo-no-password');
      break;
  }
  next.privileged = next.present && (next.uid === 0 || next.sudo.length > 0 || next.privilegedGroups.length > 0);
  next.risky = next.present && next.flags.some((f) => RISKY_FLAGS.has(f));
  const { kind: _kind, ...change } = c;
  // One document per stored message (a batch stored twice has two), under an opaque id: a hash, so
  // the stream sequence in it stays in the server.
  const history: IdentityChangeDoc = { id: docId('change', e.id, seq), seq, agentId, identityId: id, at: e.at, ...change, itemId: e.id };
  return [{ collection: 'identities', id, doc: next }, { collection: 'identity-changes', id: history.id, doc: history }, ...groupWrites];
}
