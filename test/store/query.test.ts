import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { alertDecider } from '../../commands/alerts/decider.ts';
import type { AlertDoc } from '../../projections/alerts/projection.ts';
import { execute } from '../../src/domain/execute.ts';
import { sortRange } from '../../src/store/keys.ts';
import type { Doc } from '../../src/store/model.ts';
import type { TenantStore } from '../../src/store/store.ts';
import { rejects } from '../helpers/assert.ts';
import { createTenant, enrollAgent, freshTenant, raiseAlert } from '../helpers/events.ts';
import { readModelFixture } from '../helpers/readmodels.ts';

/**
 * The store's list queries (what every list of the console reads): totals that match a count by
 * hand, every sort paged through without a gap or a repeat, time ranges, free text, and sort keys
 * that follow a change of the sorted field.
 */
const test = suite('store: queries');

type Fixture = Awaited<ReturnType<typeof readModelFixture>>;
let f: Fixture;
let store: TenantStore;
const all: AlertDoc[] = [];
let tenant = '';
let quiet = '';
const RANK: Record<string, number> = { low: 0, medium: 1, high: 2, critical: 3 };

test.before(async () => {
  f = await readModelFixture();
  tenant = freshTenant('q');
  await createTenant(f.log, tenant);
  const { agentId } = await enrollAgent(f.log, tenant, 'busy-host');
  ({ agentId: quiet } = await enrollAgent(f.log, tenant, 'quiet-host'));
  const sev = ['low', 'medium', 'high', 'critical'] as const;
  let last = 0;
  for (let i = 0; i < 600; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: 50 }, (_, k) =>
        raiseAlert(f.log, tenant, (i + k) % 40 === 0 ? quiet : agentId, {
          severity: sev[(i + k) % 4]!,
          title: `alert ${i + k} ${(i + k) % 7 === 0 ? 'needle' : 'hay'}`,
        }),
      ),
    );
    for (const r of batch) last = Math.max(last, r.position);
  }
  assert.ok(await f.projector.waitFor(last, 20_000));
  store = f.projector.store.forTenant(tenant);
  for (let cursor: string | null = null, first = true; first || cursor; first = false) {
    const p: { items: AlertDoc[]; nextCursor: string | null } = await store.list<AlertDoc>('alerts', { limit: 200, ...(cursor ? { cursor } : {}) });
    all.push(...p.items);
    cursor = p.nextCursor;
  }
  assert.is(all.length, 600);
});

test.after(async () => {
  await f?.cleanup();
});

async function pages(o: Parameters<TenantStore['query']>[1], limit: number): Promise<{ ids: string[]; totals: number[] }> {
  const ids: string[] = [];
  const totals: number[] = [];
  let cursor: string | null = null;
  do {
    const p: { items: AlertDoc[]; nextCursor: string | null; total: number } = await store.query<AlertDoc>('alerts', {
      ...o,
      limit,
      ...(cursor ? { cursor } : {}),
    });
    ids.push(...p.items.map((d) => d.id));
    totals.push(p.total);
    cursor = p.nextCursor;
  } while (cursor);
  return { ids, totals };
}

test('totals are exact: the intersection of indexed filters, counted by hand', async () => {
  const want = all.filter((d) => d.status === 'open' && d.severity === 'high').length;
  const p = await store.query('alerts', { filter: { status: 'open', severity: 'high' }, limit: 10 });
  assert.is(p.total, want);
  assert.is(p.totalExact, true);
  assert.is((await store.query('alerts', { limit: 1 })).total, 600);
});

test('sorted by severity, paged 37 at a time: every alert once, most severe first, creation order within a severity', async () => {
  const { ids, totals } = await pages({ sort: 'severity' }, 37);
  assert.is(ids.length, 600);
  assert.is(new Set(ids).size, 600, 'no alert twice');
  const byId = new Map(all.map((d) => [d.id, d]));
  const docs = ids.map((id) => byId.get(id)!);
  for (let i = 1; i < docs.length; i++) {
    const [a, b] = [docs[i - 1]!, docs[i]!];
    assert.ok(RANK[a.severity]! > RANK[b.severity]! || (a.severity === b.severity && a.seq > b.seq), `order at ${i}`);
  }
  assert.ok(totals.every((t) => t === 600));
  const asc = await pages({ sort: 'severity', ascending: true }, 200);
  assert.equal(asc.ids, [...ids].reverse());
});

test('a small filtered set (one host) is ordered in memory exactly as the index would order it', async () => {
  const mine = all.filter((d) => d.agentId === quiet).sort((a, b) => RANK[b.severity]! - RANK[a.severity]! || b.seq - a.seq);
  const { ids, totals } = await pages({ filter: { agentId: quiet }, sort: 'severity' }, 4);
  assert.equal(
    ids,
    mine.map((d) => d.id),
  );
  assert.ok(totals.every((t) => t === mine.length));
});

test('a time range on raisedAt, with free text: what a hand filter finds, and its total', async () => {
  const sorted = [...all].sort((a, b) => (a.raisedAt < b.raisedAt ? -1 : 1));
  const from = sorted[100]!.raisedAt;
  const to = sorted[500]!.raisedAt;
  const want = all.filter((d) => d.raisedAt >= from && d.raisedAt < to && d.title.includes('needle'));
  const match = (d: Doc) => String(d.title).includes('needle');
  const { ids, totals } = await pages({ range: { sort: 'raisedAt', from, to }, match }, 25);
  assert.equal(new Set(ids), new Set(want.map((d) => d.id)));
  assert.ok(totals.every((t) => t === want.length));
});

test('a sort key follows its field: acknowledged alerts sort under their new status, no key is left behind', async () => {
  const target = all.find((d) => d.status === 'open')!;
  const r = await execute(f.log, { tenant, id: target.id }, alertDecider, { kind: 'acknowledge' }, { actor: { kind: 'operator', id: 'admin' } });
  assert.ok(await f.projector.waitFor(r.position, 10_000));
  const page = await store.query<AlertDoc>('alerts', { sort: 'status', ascending: true, limit: 1 });
  assert.is(page.items[0]!.id, target.id, 'acknowledged sorts before open');
  const sub = f.projector.store.tenantSub('alerts', f.projector.store.activeGen('alerts'), tenant);
  let keys = 0;
  for await (const _ of sub.keys(sortRange('alerts', 'status'))) keys++;
  assert.is(keys, 600, 'one status key per alert');
});

test('refused: an unknown sort, a filter on a field without an index, a cursor of another order', async () => {
  await rejects(store.query('alerts', { sort: 'title' }), 'STK_ERR_VALIDATION');
  await rejects(store.query('alerts', { filter: { title: 'x' } }), 'STK_ERR_VALIDATION');
  const p = await store.query('alerts', { sort: 'severity', limit: 5 });
  await rejects(store.query('alerts', { sort: 'status', cursor: p.nextCursor! }), 'STK_ERR_VALIDATION');
  await rejects(store.query('alerts', { cursor: Buffer.from('created:../x').toString('base64url') }), 'STK_ERR_VALIDATION');
});

test.run();
