import type { Severity } from '../../../commands/alerts/events.ts';
import { sidRid } from './codec.ts';
import type { DirectoryAccount, DirectorySnapshot } from './snapshot.ts';

export const FINDING_KINDS = [
  'privileged-member',
  'kerberoastable',
  'asrep-roastable',
  'password-never-expires',
  'stale-account',
  'disabled-privileged',
] as const;
export type DirectoryFindingKind = (typeof FINDING_KINDS)[number];

/**
 * An identity finding, shaped as the `data` of a `finding` report item (docs/agent-protocol.md).
 * `subject` is `ad:<sid>:<kind>`: stable across renames and collections, so the server can
 * deduplicate it.
 */
export interface DirectoryFinding {
  product: 'identity';
  title: string;
  severity: Severity;
  subject: string;
  details: {
    kind: DirectoryFindingKind;
    account: string;
    sid: string;
    dn: string;
    privileged: boolean;
    [key: string]: unknown;
  };
}

/** Settings of the findings. */
export interface FindingSettings {
  /** An enabled account with no logon for this many days is stale. @defaultValue 90 */
  staleAfterDays?: number;
}

/** The RID of krbtgt: its SPN is the KDC's own, and its keys are not roastable through it. */
const KRBTGT_RID = 502;
const DAY_MS = 86_400_000;
const TITLE_MAX = 256;

interface Membership {
  name: string;
  sid: string;
  key: string;
  tier: 0 | 1;
  via: string[];
  primaryGroup: boolean;
}

function clip(title: string): string {
  return title.length <= TITLE_MAX ? title : `${title.slice(0, TITLE_MAX - 1)}…`;
}

/**
 * The findings of a snapshot at `now`: a pure function, so the same snapshot, time and settings
 * always give the same findings, sorted by subject. Roasting, password and staleness findings
 * concern enabled accounts only; a disabled member of a privileged group gets `disabled-privileged`
 * instead of `privileged-member`.
 */
export function directoryFindings(snapshot: DirectorySnapshot, now: Date, settings: FindingSettings = {}): DirectoryFinding[] {
  const staleAfterDays = settings.staleAfterDays ?? 90;
  const cutoffMs = now.getTime() - staleAfterDays * DAY_MS;

  const memberships = new Map<string, Membership[]>();
  for (const group of snapshot.privileged) {
    for (const m of group.members) {
      const list = memberships.get(m.sid) ?? [];
      list.push({ name: group.name, sid: group.sid, key: group.key, tier: group.tier, via: m.via, primaryGroup: m.primaryGroup });
      memberships.set(m.sid, list);
    }
  }

  const out: DirectoryFinding[] = [];
  const emit = (a: DirectoryAccount, kind: DirectoryFindingKind, severity: Severity, title: string, extra: Record<string, unknown> = {}): void => {
    out.push({
      product: 'identity',
      title: clip(title),
      severity,
      subject: `ad:${a.sid}:${kind}`,
      details: { kind, account: a.samAccountName, sid: a.sid, dn: a.dn, privileged: memberships.has(a.sid), ...extra },
    });
  };

  for (const a of snapshot.accounts) {
    const groups = memberships.get(a.sid) ?? [];
    const privileged = groups.length > 0;
    const groupNames = groups.map((g) => g.name).join(', ');
    const groupDetails = groups.map((g) => ({ name: g.name, sid: g.sid, via: g.via, primaryGroup: g.primaryGroup }));

    if (privileged && a.enabled) {
      const tier0 = groups.some((g) => g.tier === 0);
      emit(a, 'privileged-member', tier0 ? 'high' : 'medium', `${a.samAccountName} is a member of privileged groups: ${groupNames}`, { groups: groupDetails });
    }
    if (privileged && !a.enabled) {
      emit(a, 'disabled-privileged', 'medium', `${a.samAccountName} is disabled but still a member of privileged groups: ${groupNames}`, {
        groups: groupDetails,
      });
    }
    if (!a.enabled) continue;

    if (a.kind === 'user' && a.servicePrincipalNames.length > 0 && sidRid(a.sid) !== KRBTGT_RID) {
      emit(a, 'kerberoastable', privileged ? 'critical' : 'medium', `${a.samAccountName} is Kerberoastable: a user account with service principal names`, {
        servicePrincipalNames: a.servicePrincipalNames,
      });
    }
    if (a.flags.includes('DONT_REQ_PREAUTH')) {
      emit(a, 'asrep-roastable', privileged ? 'critical' : 'high', `${a.samAccountName} does not require Kerberos pre-authentication (AS-REP roastable)`);
    }
    if (a.flags.includes('DONT_EXPIRE_PASSWORD')) {
      emit(a, 'password-never-expires', privileged ? 'medium' : 'low', `The password of ${a.samAccountName} never expires`, { pwdLastSet: a.pwdLastSet });
    }
    if (a.kind === 'user') {
      const lastMs = a.lastLogonTimestamp ? Date.parse(a.lastLogonTimestamp) : null;
      const createdMs = a.whenCreated ? Date.parse(a.whenCreated) : null;
      if (lastMs !== null ? lastMs < cutoffMs : createdMs !== null && createdMs < cutoffMs) {
        const days = Math.floor((now.getTime() - (lastMs ?? createdMs!)) / DAY_MS);
        const title =
          lastMs !== null
            ? `${a.samAccountName} is enabled but has not logged on for ${days} days`
            : `${a.samAccountName} is enabled but has never logged on (created ${days} days ago)`;
        emit(a, 'stale-account', privileged ? 'medium' : 'low', title, {
          lastLogonTimestamp: a.lastLogonTimestamp,
          whenCreated: a.whenCreated,
          staleAfterDays,
          days,
        });
      }
    }
  }
  return out.sort((x, y) => (x.subject < y.subject ? -1 : x.subject > y.subject ? 1 : 0));
}
