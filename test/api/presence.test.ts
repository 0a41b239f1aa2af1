import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AgentEvents } from '../../commands/agents/events.ts';
import { type AgentCountsDoc, type AgentDoc, agentCountsId, SEEN_BUCKET_MS } from '../../projections/agents/projection.ts';
import { AGENT_ONLINE_WINDOW_MS, agentPresence, agentView, CERT_SOON_DAYS, type Presence } from '../../src/api/presence.ts';
import { docKey } from '../../src/store/keys.ts';
import { newId } from '../../src/ids.ts';
import type { TenantStore } from '../../src/store/store.ts';
import { apiFixture, type ApiFixture } from '../helpers/api.ts';
import { enrollAgent, freshTenant } from '../helpers/events.ts';
import { settled } from '../people/helpers.ts';

/**
 * A tenant's agents online, offline, revoked and expiring, as the overviews show them, from the
 * agents model's counts and sort keys: the same figures as reading every agent would give, at every
 * moment across the window's edge and its buckets; and a model built before the counts were kept is
 * still read agent by agent.
 */
const test = suite('agent presence: counts and sort keys agree with every agent read');

let f: ApiFixture;
const T = freshTenant('pres');
const DAY = 86_400_000;
// An hour ahead of the clock, so the heartbeats below are the agents' latest word.
const base = Date.now() + 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
let store: TenantStore;
let first = '';
const agents: string[] = [];

async function agentEvent(agentId: string, type: string, data: Record<string, unknown>, at: number): Promise<void> {
  await f.stk.runtime.log.append(
    { tenant: T, aggregateType: 'agent', aggregateId: agentId },
    [{ type, data, actor: { kind: 'agent', id: agentId }, at: iso(at) }],
    { expectedVersion: 'any' },
  );
}

/** What reading every agent says at `now`. */
async function everyAgent(now: number): Promise<Presence> {
  const p: Presence = { online: 0, offline: 0, revoked: 0, expiringSoon: 0, earliestNotAfter: null };
  const { items } = await store.list<AgentDoc>('agents', { limit: 200 });
  for (const a of items) {
    const c = agentView(a, now).connectivity;
    if (c === 'revoked') {
      p.revoked++;
      continue;
    }
    c === 'online' ? p.online++ : p.offline++;
    if (Date.parse(a.certNotAfter) - now < CERT_SOON_DAYS * DAY) p.expiringSoon++;
    if (p.earliestNotAfter === null || a.certNotAfter < p.earliestNotAfter) p.earliestNotAfter = a.certNotAfter;
  }
  return p;
}

test.before(async () => {
  f = await apiFixture();
  await f.tenant(T, ['edr']);
  const ids = agents;
  for (let i = 0; i < 40; i++) ids.push((await enrollAgent(f.stk.runtime.log, T, `host-${i}`)).agentId);
  // Certificates ending in 1, 13, 14, 15 and 40 days (renewed 20 minutes before the heartbeats).
  for (const [i, days] of [1, 13, 14, 15, 40].entries())
    await agentEvent(ids[i]!, AgentEvents.certificateRenewed, { certFingerprint: 'b'.repeat(64), certNotAfter: iso(base + days * DAY) }, base - 20 * 60_000);
  // Last heard from every 23 s back to 15 minutes before `base`, and one exactly at the window's edge.
  for (let i = 0; i < 39; i++) await agentEvent(ids[i]!, AgentEvents.heartbeat, {}, base - i * 23_000);
  await agentEvent(ids[39]!, AgentEvents.heartbeat, {}, base - AGENT_ONLINE_WINDOW_MS);
  // Revoked: one heard from recently (its certificate ending in 15 days), one long silent, one with a certificate ending tomorrow.
  for (const i of [3, 30, 0]) {
    const r = await f.call('POST', `/api/v1/tenants/${T}/agents/${ids[i]}/revoke`, { body: { reason: 'presence test' } });
    assert.is(r.status, 200, JSON.stringify(r.body));
  }
  first = ids[0]!;
  await settled(f);
  store = f.stk.runtime.readModels!.projector.store.forTenant(T);
});
test.after(async () => {
  await f?.cleanup();
});

test('at every moment across the edge and its buckets, the figures are what reading every agent says', async () => {
  const counts = await store.get<AgentCountsDoc>('agent-counts', agentCountsId(T));
  assert.equal([counts?.active, counts?.revoked, counts?.firstAgent], [37, 3, first]);
  // From `base` on, every 7 s for 12 minutes: the edge walks over every bucket and every agent.
  let sawBoth = false;
  for (let now = base; now <= base + 12 * 60_000; now += 7_000) {
    const want = await everyAgent(now);
    assert.equal(await agentPresence(store, now), want, `at base + ${(now - base) / 1000} s`);
    if (want.online > 0 && want.offline > 0) sawBoth = true;
  }
  assert.ok(sawBoth, 'some moments have agents on both sides of the edge');
  const atBase = await agentPresence(store, base);
  assert.is(atBase.revoked, 3);
  // The agent heard from exactly a window ago is still online; 14 days is not "within 14 days".
  assert.equal([atBase.online, atBase.offline], [await onlineCount(base), 37 - (await onlineCount(base))]);
  assert.is(atBase.expiringSoon, 1, 'the certificate ending in 13 days: 14 days is not within 14, and the one ending tomorrow is revoked');
  assert.ok(SEEN_BUCKET_MS < AGENT_ONLINE_WINDOW_MS, 'a bucket is finer than the window');
});

async function onlineCount(now: number): Promise<number> {
  return (await everyAgent(now)).online;
}

test('the counts are what is read; counts younger than the oldest agent (a model not rebuilt) are not trusted', async () => {
  const sub = f.stk.runtime.readModels!.projector.store.tenantSub('agents', f.stk.runtime.readModels!.projector.store.activeGen('agents'), T);
  const key = docKey('agent-counts', agentCountsId(T));
  const kept = (await sub.get(key)) as AgentCountsDoc;
  try {
    // Kept since the first agent, a thousand more active agents show as a thousand more online.
    await sub.put(key, { ...kept, active: kept.active + 1000 });
    const real = await everyAgent(base);
    assert.is((await agentPresence(store, base)).online, real.online + 1000);
    // And so does the route (its store shows documents without their positions): every agent was heard from after now.
    const shown = await f.call('GET', `/api/v1/tenants/${T}/overview`);
    assert.equal(shown.body.agents, { online: 1037, offline: 0, revoked: 3 });
    // Created after the tenant's first agent (a build that added it to a model not rebuilt): every agent is read.
    await sub.put(key, { ...kept, firstAgent: newId(), active: 1 });
    assert.equal(await agentPresence(store, base), real);
    await sub.del(key);
    assert.equal(await agentPresence(store, base), real);
    // Without counts, a revocation does not start them (only an enrollment does): it predates them.
    const r = await f.call('POST', `/api/v1/tenants/${T}/agents/${agents[5]}/revoke`, { body: { reason: 'after the counts went' } });
    assert.is(r.status, 200, JSON.stringify(r.body));
    await settled(f);
    assert.is(await sub.get(key), undefined);
    assert.equal(await agentPresence(store, base), await everyAgent(base));
  } finally {
    await sub.put(key, kept);
  }
});

test.run();
