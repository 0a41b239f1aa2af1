import type { FindingDoc } from '../../../projections/findings/projection.ts';
import type { IdentityDoc } from '../../../projections/identities/projection.ts';
import type { TenantContext, TenantRouteDef } from '../route.ts';
import { ID, oneOf, text } from '../schemas.ts';
import { telemetryGet, telemetryList } from './telemetry-routes.ts';

/** Findings read when linking them to one account: a few pages of the agent's identity findings. */
const FINDINGS_PAGES = 5;

/**
 * The subject prefix of an account's findings: directory findings are `ad:<sid>:<kind>`, local
 * ones `local:<account>:<finding>` (stable across runs, so the agent reports each once).
 */
export function findingSubjectPrefix(i: Pick<IdentityDoc, 'source' | 'sid' | 'account'>): string {
  return i.source === 'directory' && i.sid ? `ad:${i.sid}:` : `local:${i.account}:`;
}

/** An account with its recent changes and the identity findings about it. */
async function identityView(doc: IdentityDoc, c: TenantContext) {
  const history = await c.telemetry.store.list('identity-changes', { filter: { identityId: doc.id }, limit: 100 });
  const prefix = findingSubjectPrefix(doc);
  const findings: FindingDoc[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < FINDINGS_PAGES; page++) {
    const p: { items: FindingDoc[]; nextCursor: string | null } = await c.store.list<FindingDoc>('findings', {
      filter: { agentId: doc.agentId, product: 'identity' },
      limit: 200,
      ...(cursor ? { cursor } : {}),
    });
    findings.push(...p.items.filter((f) => f.subject.startsWith(prefix)));
    cursor = p.nextCursor;
    if (!cursor) break;
  }
  return { ...doc, history: history.items, findings };
}

/** Identity threats: accounts (local and directory), their history of changes, privileged groups. */
export const identityRoutes: TenantRouteDef[] = [
  telemetryList({
    area: 'identities',
    path: 'identities',
    collection: 'identities',
    permission: 'identities.read',
    summary: 'Accounts the agents report (local accounts and directory accounts), with privileged groups and risky flags',
    filters: {
      agentId: ID,
      account: text(256),
      source: oneOf(['local', 'directory']),
      privileged: oneOf(['true', 'false']),
      risky: oneOf(['true', 'false']),
      present: oneOf(['true', 'false']),
    },
  }),
  telemetryGet({
    area: 'identities',
    path: 'identities',
    collection: 'identities',
    param: 'identityId',
    permission: 'identities.read',
    summary: 'One account with its history of changes and the identity findings about it',
    view: identityView,
  }),
  telemetryList({
    area: 'identities',
    path: 'identity-changes',
    collection: 'identity-changes',
    permission: 'identities.read',
    summary: 'Account changes (added, removed, modified, group membership, SSH keys, sudo), newest first',
    filters: {
      agentId: ID,
      identityId: ID,
      account: text(256),
      change: oneOf(['added', 'removed', 'modified', 'group-member-added', 'group-member-removed', 'key-added', 'key-removed', 'sudo-added', 'sudo-removed']),
    },
  }),
  telemetryList({
    area: 'identities',
    path: 'identity-groups',
    collection: 'identity-groups',
    permission: 'identities.read',
    summary: 'Groups with their members as the agents report them; `privileged=true` for the privileged ones',
    filters: { agentId: ID, privileged: oneOf(['true', 'false']), group: text(256) },
  }),
];
