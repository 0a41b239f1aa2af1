import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { EVENTS_STREAM } from '../../src/log/mod.ts';
import { newId } from '../../src/ids.ts';
import { exportLedger } from '../../src/ledger/export.ts';
import { eventHash } from '../../src/ledger/format.ts';
import type { Sealer } from '../../src/ledger/sealer.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { freshTenant, ledgerFixture, type LedgerFixture } from './fixture.ts';

type Ctx = { f: LedgerFixture; sealer: Sealer };
const test = suite<Ctx>('ledger: commits that carry births');

test.before(async (ctx) => {
  ctx.f = await ledgerFixture();
  ctx.sealer = await ctx.f.sealer({ blockMaxEntries: 4 });
});
test.after(async (ctx) => {
  await ctx.f?.close();
});

/** Three report commits of one agent, each with two alerts born in it; returns their positions. */
async function reports(ctx: Ctx, tenant: string): Promise<number[]> {
  const agent = { tenant, aggregateType: 'agent', aggregateId: newId() };
  await ctx.f.log.appendOrThrow(agent, [{ type: 'agent.enrolled', data: {} }], { expectedVersion: 'no_stream' });
  const out: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await ctx.f.log.appendOrThrow(agent, [{ type: 'agent.heartbeat', data: { i } }], {
      expectedVersion: 'any',
      births: [0, 1].map((j) => ({ aggregateType: 'alert', seed: `${i}.${j}`, events: [{ type: 'alert.raised', data: { title: `r${i} a${j}` } }] })),
    });
    out.push(r.position);
  }
  return out;
}

test('each report commit is one chain entry over its stored bytes; verify and export hold', async (ctx) => {
  const tenant = freshTenant();
  const seqs = await reports(ctx, tenant);
  await ctx.sealer.waitSealed(seqs.at(-1)!);
  const report = await verifyLedger({ streams: ctx.f.streams, tenants: [tenant] });
  assert.ok(report.ok, JSON.stringify(report.tenants[0]?.break));
  assert.is(report.tenants[0]!.entries, 4, 'one entry per commit (the enrollment and three reports), not per event');
  const out = join(ctx.f.dir, `export-${tenant}`);
  const summary = await exportLedger({ streams: ctx.f.streams, tenant, out });
  assert.is(summary.entries, 4);
  // What an auditor checks with sha256sum: each exported preimage hashes to its entry in the blocks.
  const sealedHashes = new Map<number, string>();
  for (const name of (await readdir(join(out, 'blocks'))).filter((n) => n.endsWith('.json'))) {
    const b = JSON.parse(await readFile(join(out, 'blocks', name), 'utf8')) as { firstHeight: number; entries: Array<[number, string, string]> };
    for (const [i, e] of b.entries.entries()) sealedHashes.set(b.firstHeight + i, e[2]);
  }
  const files = (await readdir(join(out, 'events'))).sort();
  assert.is(files.length, 4);
  for (const [i, name] of files.entries()) {
    assert.is(
      createHash('sha256')
        .update(await readFile(join(out, 'events', name)))
        .digest('hex'),
      sealedHashes.get(i + 1),
      name,
    );
  }
  // The sealed hash is over the record exactly as stored, births and all.
  const m = (await ctx.f.streams.at(EVENTS_STREAM, seqs[1]!))!;
  assert.is(eventHash(m.subject, m.headers!.get('Stk-Version'), m.data), sealedHashes.get(3));
});

test('an edited born event is an edited record: event_edited at that record', async (ctx) => {
  const tenant = freshTenant();
  const seqs = await reports(ctx, tenant);
  await ctx.sealer.waitSealed(seqs.at(-1)!);
  const jsm = await jetstreamManager(ctx.f.nc);
  const original = (await jsm.streams.getMessage(EVENTS_STREAM, { seq: seqs[0]! }))!;
  await jsm.streams.deleteMessage(EVENTS_STREAM, seqs[0]!);
  const h = natsHeaders();
  h.set('Stk-Version', original.header.get('Stk-Version'));
  const body = new TextDecoder().decode(original.data).replace('"title":"r0 a1"', '"title":"nothing to see"');
  assert.ok(body.includes('nothing to see'), 'the born alert’s title was edited');
  const copy = await jetstream(ctx.f.nc).publish(original.subject, new TextEncoder().encode(body), { headers: h });
  await ctx.sealer.waitSealed(copy.seq);
  const r = await verifyLedger({ streams: ctx.f.streams, tenants: [tenant] });
  assert.is(r.ok, false);
  assert.is(r.tenants[0]!.break?.kind, 'event_edited');
  assert.is(r.tenants[0]!.break?.seq, seqs[0]);
});

test.run();
