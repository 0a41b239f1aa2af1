import { type AgentCountsDoc, type AgentDoc, agentCountsId, SEEN_BUCKET_MS, seenBucket } from '../../projections/agents/projection.ts';
import type { TenantStore } from '../store/store.ts';
import { keptSinceFirst } from './counts.ts';

/** An agent not heard from for this long shows as offline. */
export const AGENT_ONLINE_WINDOW_MS = 5 * 60_000;
/** Agent certificates that expire within this many days are counted as expiring. */
export const CERT_SOON_DAYS = 14;
/** Most agents last heard from in the one bucket at the window's edge that are read one by one; past it, every active agent is. */
const EDGE_DOCS_MAX = 10_000;

/** An agent as operators see it; online/offline is decided here, at read time, not in the projection. */
export function agentView(a: AgentDoc, now = Date.now()) {
  const { certFingerprint: _f, lastSeenHour: _h, ...rest } = a;
  const connectivity = a.status === 'revoked' ? 'revoked' : now - Date.parse(a.lastSeenAt) <= AGENT_ONLINE_WINDOW_MS ? 'online' : 'offline';
  return { ...rest, connectivity };
}

/** A tenant's agents at `now`: online, offline and revoked, and the active ones' certificates expiring soon. */
export interface Presence {
  online: number;
  offline: number;
  revoked: number;
  expiringSoon: number;
  earliestNotAfter: string | null;
}

/**
 * How a tenant's agents stand at `now`, whatever their number: the counts the agents model keeps,
 * the active agents not heard from for longer than the window counted from the `seen` sort's keys
 * (no document read but those last heard from in the bucket at the window's edge), and expiring
 * certificates from the `certNotAfter` sort's. The cost follows the offline and expiring agents, not
 * all of them — an overview asked every few seconds of a 50,000-agent tenant reads no 50,000
 * documents. A model not rebuilt since the counts were added is read agent by agent, as before.
 */
export async function agentPresence(store: TenantStore, now: number): Promise<Presence> {
  const counts = await store.get<AgentCountsDoc>('agent-counts', agentCountsId(store.tenant));
  if (!counts || !(await keptSinceFirst(store, 'agents', counts.firstAgent))) return walkPresence(store, now);
  const edge = now - AGENT_ONLINE_WINDOW_MS;
  const from = seenBucket(edge);
  const to = seenBucket(edge + SEEN_BUCKET_MS);
  const atEdge = await store.ids('agents', { range: { sort: 'seen', from, to } }, EDGE_DOCS_MAX);
  if (atEdge.more) return walkPresence(store, now);
  let offline = await store.countSorted('agents', 'seen', undefined, from);
  for (const a of await store.getMany<AgentDoc>('agents', atEdge.ids)) if (a?.status === 'active' && Date.parse(a.lastSeenAt) < edge) offline++;
  const soon = new Date(now + CERT_SOON_DAYS * 86_400_000).toISOString();
  let earliestNotAfter: string | null = null;
  for await (const page of store.walk<AgentDoc>('agents', { sort: 'certNotAfter', pageSize: 1 })) {
    earliestNotAfter = page[0]?.certNotAfter ?? null;
    break;
  }
  return {
    online: counts.active - offline,
    offline,
    revoked: counts.revoked,
    expiringSoon: await store.countSorted('agents', 'certNotAfter', undefined, soon),
    earliestNotAfter,
  };
}

/** The same figures from every active agent's document (a model built before the counts existed). */
async function walkPresence(store: TenantStore, now: number): Promise<Presence> {
  const p: Presence = { online: 0, offline: 0, revoked: 0, expiringSoon: 0, earliestNotAfter: null };
  let cursor: string | null = null;
  do {
    const page: { items: AgentDoc[]; nextCursor: string | null } = await store.list<AgentDoc>('agents', {
      filter: { status: 'active' },
      limit: 200,
      ...(cursor ? { cursor } : {}),
    });
    for (const a of page.items) {
      agentView(a, now).connectivity === 'online' ? p.online++ : p.offline++;
      if (Date.parse(a.certNotAfter) - now < CERT_SOON_DAYS * 86_400_000) p.expiringSoon++;
      if (p.earliestNotAfter === null || a.certNotAfter < p.earliestNotAfter) p.earliestNotAfter = a.certNotAfter;
    }
    cursor = page.nextCursor;
  } while (cursor);
  p.revoked = await store.count('agents', { field: 'status', value: 'revoked' });
  return p;
}
