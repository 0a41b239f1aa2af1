import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { auditRows } from '../../src/api/routes/audit.ts';
import { newId } from '../../src/ids.ts';
import { peopleOf } from '../../src/people/people.ts';
import { type Refusal, refusalSubject } from '../../src/people/refusals.ts';
import { apiFixture, type ApiFixture } from '../helpers/api.ts';
import { enrollAgent, freshTenant, raiseAlert, readToken } from '../helpers/events.ts';

/**
 * The audit export is the whole trail (issue 14 review): it once stopped at 100,000 entries and
 * read refused attempts oldest first up to 10,000, so the newest refusals were the ones dropped,
 * and nothing said so. Here a tenant has more refusals than the old cut (10,050 in its stream,
 * written straight to REFUSALS as `Refusals.record` writes them) and more audit entries than one
 * page of the audit model, and every one of them comes out, in time order, in CSV and JSON lines.
 */
const test = suite('audit export: complete, streamed, in time order');
let f: ApiFixture;
const tenant = freshTenant('auditx');
const other = freshTenant('audity');
const REFUSALS = 10_050;
const ALERTS = 620;

function refusal(i: number, at: string): Refusal {
  return {
    at,
    kind: 'forbidden',
    code: 'STK_ERR_FORBIDDEN',
    actor: `user:probe-${i}`,
    via: null,
    method: 'POST',
    route: '/api/v1/tenants/:tenant/tokens',
    ip: '127.0.0.1',
  };
}

async function writeRefusals(t: string, from: number, n: number, at: (i: number) => string): Promise<void> {
  const streams = f.stk.runtime.streams;
  async function* source() {
    for (let i = from; i < from + n; i++) {
      yield { subject: refusalSubject(t), data: new TextEncoder().encode(JSON.stringify(refusal(i, at(i)))), msgId: newId() };
    }
  }
  await streams.publishAll(source(), { window: 500, timeoutMs: 30_000, onAck: () => {} });
}

test.before(async () => {
  f = await apiFixture();
  await f.tenant(tenant);
  await f.tenant(other);
  // One real refusal first: it makes the REFUSALS stream the way the API makes it.
  const analyst = await f.token(other, 'auditor');
  assert.is((await f.call('GET', `/api/v1/tenants/${tenant}/alerts`, { token: analyst })).status, 404);
  const log = f.stk.runtime.log;
  const { agentId } = await enrollAgent(log, tenant, 'web-01');
  // Refusals stamped (in the order they are stored, as `Refusals.record` stamps them) before and
  // after the alerts, so the merge has to interleave the two sources.
  // The first half all at one instant, after what is already stored and before any alert however
  // fast the alerts follow (spread over the next 250 ms, a fast machine raised alerts inside them).
  const before = Date.now();
  await writeRefusals(tenant, 0, REFUSALS / 2, () => new Date(before).toISOString());
  let last = 0;
  for (let i = 0; i < ALERTS; i += 20) {
    const batch = await Promise.all(Array.from({ length: 20 }, (_, k) => raiseAlert(log, tenant, agentId, { title: `alert ${i + k}` })));
    last = Math.max(last, ...batch.map((b) => b.position));
  }
  const after = Date.now() + 1;
  await writeRefusals(tenant, REFUSALS / 2, REFUSALS / 2, (i) => new Date(after + Math.floor(i / 20)).toISOString());
  // Another tenant's refusals and changes must not appear.
  await writeRefusals(other, 0, 50, () => new Date().toISOString());
  const waitFor = await readToken(log.streams, tenant, last);
  assert.is((await f.call('GET', `/api/v1/tenants/${tenant}/alerts?waitFor=${waitFor}`)).status, 200);
});

test.after(async () => {
  await f?.cleanup();
});

async function download(format: 'csv' | 'jsonl'): Promise<{ res: Response; text: string }> {
  const res = await fetch(`${f.url}/api/v1/tenants/${tenant}/audit/export?format=${format}`, { headers: { authorization: `Bearer ${f.adminKey}` } });
  return { res, text: await res.text() };
}

test('JSON lines: every audit entry and every refusal past the old 10,000, the newest included, oldest first', async () => {
  const store = f.stk.runtime.readModels!.store.forTenant(tenant);
  const entries = await store.count('audit');
  assert.ok(entries > 500, `${entries} audit entries: more than one page of the audit model`);
  const { res, text } = await download('jsonl');
  assert.is(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /application\/x-ndjson/);
  const rows = text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { at: string; kind: string; actorId: string; action: string });
  const refused = rows.filter((r) => r.kind === 'refused');
  assert.is(rows.filter((r) => r.kind === 'event').length, entries);
  // The one real refusal (the probe of the other tenant's auditor) and every written one.
  assert.is(refused.length, REFUSALS + 1);
  assert.ok(
    refused.some((r) => r.actorId === `user:probe-${REFUSALS - 1}`),
    'the newest refusal is there',
  );
  for (let i = 1; i < rows.length; i++) if (rows[i]!.at < rows[i - 1]!.at) assert.unreachable(`row ${i} is older than row ${i - 1}`);
  // The recorded changes lie between the two halves of the refusals.
  const firstEvent = rows.findIndex((r) => r.kind === 'event' && r.action.startsWith('alert.'));
  assert.ok(firstEvent > REFUSALS / 2, `the first half of the refusals comes before the alerts (first alert at row ${firstEvent})`);
  assert.is(rows.at(-1)!.actorId, `user:probe-${REFUSALS - 1}`);
});

test('CSV: a header and one line per entry, as many as the JSON lines', async () => {
  const json = (await download('jsonl')).text.trim().split('\n').length;
  const { res, text } = await download('csv');
  assert.match(res.headers.get('content-type') ?? '', /text\/csv/);
  const lines = text.split('\r\n');
  assert.is(lines.at(-1), '', 'ends with a line break');
  assert.ok(lines[0]!.startsWith('at,kind,outcome,actorKind,actorId,'));
  assert.is(lines.length - 2, json);
  assert.ok(text.includes(`user:probe-${REFUSALS - 1}`));
});

test('the export reads the audit model page by page through the tenant-bound store: small pages give the same rows', async () => {
  const store = f.stk.runtime.readModels!.store.forTenant(tenant);
  const people = await peopleOf(f.stk.runtime);
  const small: string[] = [];
  for await (const r of auditRows(store, people.refusals.all(tenant, 333), 7)) small.push(JSON.stringify(r));
  const full = (await download('jsonl')).text.trim().split('\n');
  assert.is(small.length, full.length);
  assert.equal(small, full);
});

test("another tenant's entries and refusals never appear", async () => {
  const { text } = await download('jsonl');
  assert.not.ok(text.includes(other), 'no row names the other tenant');
  const otherRows = (
    await fetch(`${f.url}/api/v1/tenants/${other}/audit/export?format=jsonl`, { headers: { authorization: `Bearer ${f.adminKey}` } }).then((r) => r.text())
  )
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { kind: string; actorId: string });
  assert.is(otherRows.filter((r) => r.kind === 'refused' && r.actorId.startsWith('user:probe-')).length, 50);
});

test.run();
