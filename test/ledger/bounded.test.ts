import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { EVENTS_STREAM } from '../../src/log/mod.ts';
import { runCli } from '../helpers/proc.ts';
import { apiCall, stockadeFixture } from '../dashboard/stack.ts';
import { freshTenant, intruderConnection, within } from './fixture.ts';

/**
 * An intruder with a NATS connection deletes records inside EVENTS (interior deletes, which make
 * the server over-report a filtered consumer's pending count). Every verifier — the CLI for one
 * tenant and for all, and the dashboard's "Verify now" stream — must still end, with the verdict
 * "a record is missing", instead of waiting for messages that will never come.
 */
type Stack = Awaited<ReturnType<typeof stockadeFixture>>;
type Ctx = { stack: Stack; nc: NatsConnection; tenant: string; seqs: number[] };
const test = suite<Ctx>('ledger verify ends with a verdict after interior deletes');

// A verifier that hangs fails here instead of stalling the run; generous for a busy 2-core box.
const VERDICT_DEADLINE_MS = 120_000;

test.before(async (ctx) => {
  ctx.stack = await stockadeFixture();
  const { stk } = ctx.stack;
  ctx.tenant = freshTenant('gap');
  assert.is((await apiCall(ctx.stack.base, ctx.stack.adminKey, 'POST', '/tenants', { id: ctx.tenant, name: 'Gap' })).status, 201);
  const other = freshTenant('gap-other');
  ctx.seqs = [];
  // Records of two tenants interleaved: deleting some of each leaves gaps under every filter.
  for (let i = 0; i < 12; i++) {
    for (const t of [ctx.tenant, other]) {
      const r = await stk.runtime.log.appendOrThrow({ tenant: t, aggregateType: 'alert', aggregateId: `a${i}` }, [{ type: 'alert.raised', data: { i } }], {
        expectedVersion: 'no_stream',
      });
      if (t === ctx.tenant) ctx.seqs.push(r.position);
    }
  }
  const last = ctx.seqs[ctx.seqs.length - 1]!;
  for (;;) {
    const s = await apiCall(ctx.stack.base, ctx.stack.adminKey, 'GET', `/tenants/${ctx.tenant}/ledger`);
    if (s.status === 200 && s.body.height >= 13) break; // 12 alerts + the tenant's creation (one record)
    await new Promise((r) => setTimeout(r, 50));
  }
  void last;
  ctx.nc = await intruderConnection(ctx.stack.dataDir, stk.natsUrl);
  const jsm = await jetstreamManager(ctx.nc);
  for (const seq of [ctx.seqs[3]!, ctx.seqs[7]!, ctx.seqs[7]! + 1]) await jsm.streams.deleteMessage(EVENTS_STREAM, seq);
});
test.after(async (ctx) => {
  await ctx.nc?.close().catch(() => {});
  await ctx.stack?.close();
});

test('verify --tenant ends: event_removed at the first deleted record', async (ctx) => {
  const v = runCli(['ledger', 'verify', '--tenant', ctx.tenant, '--data', ctx.stack.dataDir]);
  const code = await within(v.exited, VERDICT_DEADLINE_MS, 'ledger verify --tenant');
  assert.is(code, 1, v.lines.join('\n'));
  assert.ok(
    v.lines.some((l) => l.startsWith(`BROKEN ${ctx.tenant}: event_removed`) && l.includes(`EVENTS seq ${ctx.seqs[3]}`)),
    v.lines.join('\n'),
  );
});

test('verify --all ends: the tenant is broken, the report is complete', async (ctx) => {
  const v = runCli(['ledger', 'verify', '--all', '--data', ctx.stack.dataDir]);
  const code = await within(v.exited, VERDICT_DEADLINE_MS, 'ledger verify --all');
  assert.is(code, 1, v.lines.join('\n'));
  assert.ok(
    v.lines.some((l) => l.startsWith(`BROKEN ${ctx.tenant}: event_removed`)),
    v.lines.join('\n'),
  );
  assert.ok(
    v.lines.some((l) => /^BROKEN: \d+ tenant\(s\), [1-9]\d* broken/.test(l)),
    v.lines.join('\n'),
  );
});

test("the dashboard's Verify now stream ends with its verdict", async (ctx) => {
  const { base, adminKey } = ctx.stack;
  const login = await fetch(`${base}/ui/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ credential: adminKey }),
  });
  assert.is(login.status, 201);
  const { csrf } = (await login.json()) as { csrf: string };
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  const res = await fetch(`${base}/ui/ledger-verify/${ctx.tenant}`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf } });
  assert.is(res.status, 200);
  const text = await within(res.text(), VERDICT_DEADLINE_MS, 'the dashboard verify stream');
  const lines = text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { phase: string; ok?: boolean; break?: { kind: string; seq: number } });
  const done = lines[lines.length - 1]!;
  assert.is(done.phase, 'done', text);
  assert.is(done.ok, false);
  assert.is(done.break?.kind, 'event_removed');
  assert.is(done.break?.seq, ctx.seqs[3]);
});

test.run();
