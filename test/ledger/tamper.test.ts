import { doorOf } from '../helpers/nats.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { generateKeyPairSync } from 'node:crypto';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { EVENTS_STREAM } from '../../src/log/mod.ts';
import {
  BLOCK_FORMAT,
  LEDGER_STREAM,
  blockSignedText,
  entryHash,
  keyRecordSignedText,
  ledgerSubject,
  parseBlock,
  type Block,
  type KeyRecord,
} from '../../src/ledger/format.ts';
import { keyIdOf, publicKeyPem, signText } from '../../src/ledger/keys.ts';
import type { Sealer } from '../../src/ledger/sealer.ts';
import { verifyLedger, type BreakKind } from '../../src/ledger/verify.ts';
import { freshTenant, ledgerFixture, type LedgerFixture } from './fixture.ts';

type Ctx = { f: LedgerFixture; sealer: Sealer; jsm: JetStreamManager };
const test = suite<Ctx>('ledger tamper: an intruder with an admin NATS connection');

test.before(async (ctx) => {
  ctx.f = await ledgerFixture();
  // A consumer name verify does not read as a sealer's: its tenants left unowned stay merely unsealed.
  ctx.sealer = await ctx.f.sealer({ blockMaxEntries: 4, owns: (t) => !t.startsWith('unowned-'), consumerName: 'tamper-sealer' });
  ctx.jsm = await jetstreamManager(ctx.f.nc);
});
test.after(async (ctx) => {
  await ctx.f?.close();
});

/** A tenant with `n` sealed records; returns the records' sequences in order. */
async function sealed(ctx: Ctx, n = 8): Promise<{ tenant: string; seqs: number[] }> {
  const tenant = freshTenant();
  const seqs: number[] = [];
  for (let i = 0; i < n; i++) seqs.push(await ctx.f.append(tenant, 1));
  await ctx.sealer.waitSealed(seqs[seqs.length - 1]!);
  const ok = await verifyLedger({ streams: await doorOf(ctx.f.nc), tenants: [tenant] });
  assert.ok(ok.ok, 'untampered chain verifies');
  return { tenant, seqs };
}

async function expectBreak(ctx: Ctx, tenant: string, kind: BreakKind, o: { height?: number; seq?: number; now?: () => Date } = {}) {
  const r = await verifyLedger({ streams: await doorOf(ctx.f.nc), tenants: [tenant], ...(o.now ? { now: o.now } : {}) });
  const t = r.tenants[0]!;
  assert.is(r.ok, false);
  assert.is(t.break?.kind, kind, JSON.stringify(t.break));
  if (o.height !== undefined) assert.is(t.break!.height, o.height, JSON.stringify(t.break));
  if (o.seq !== undefined) assert.is(t.break!.seq, o.seq, JSON.stringify(t.break));
  return t.break!;
}

/** Reads a stored record, as an intruder would before removing it. */
async function take(ctx: Ctx, seq: number) {
  return (await ctx.jsm.streams.getMessage(EVENTS_STREAM, { seq }))!;
}

/** Stores a copy of a record: same subject and version header, body edited or not, no dedupe id. */
async function republish(ctx: Ctx, m: Awaited<ReturnType<typeof take>>, edit?: (body: string) => string): Promise<number> {
  const h = natsHeaders();
  h.set('Stk-Version', m.header.get('Stk-Version'));
  const body = edit ? new TextEncoder().encode(edit(new TextDecoder().decode(m.data))) : m.data;
  const ack = await jetstream(ctx.f.nc).publish(m.subject, body, { headers: h });
  return ack.seq;
}

test('delete an event: event_removed, at its height and sequence', async (ctx) => {
  const { tenant, seqs } = await sealed(ctx);
  await ctx.jsm.streams.deleteMessage(EVENTS_STREAM, seqs[4]!);
  const b = await expectBreak(ctx, tenant, 'event_removed', { height: 5, seq: seqs[4]! });
  assert.match(b.message, 'was removed from EVENTS');
});

test('delete an event and publish an edited copy (which the live sealer then seals): event_edited', async (ctx) => {
  const { tenant, seqs } = await sealed(ctx);
  const original = await take(ctx, seqs[2]!);
  await ctx.jsm.streams.deleteMessage(EVENTS_STREAM, seqs[2]!);
  const copy = await republish(ctx, original, (s) => s.replace('"data":{"i":0}', '"data":{"i":0,"severity":"low"}'));
  await ctx.sealer.waitSealed(copy);
  const b = await expectBreak(ctx, tenant, 'event_edited', { height: 3, seq: seqs[2]! });
  assert.match(b.message, `edited copy stored at seq ${copy}`);
});

test('reorder two events (delete both, store them back swapped): entry_out_of_order', async (ctx) => {
  const { tenant, seqs } = await sealed(ctx);
  const a = await take(ctx, seqs[5]!);
  const b = await take(ctx, seqs[6]!);
  await ctx.jsm.streams.deleteMessage(EVENTS_STREAM, seqs[5]!);
  await ctx.jsm.streams.deleteMessage(EVENTS_STREAM, seqs[6]!);
  await republish(ctx, b);
  const last = await republish(ctx, a);
  await ctx.sealer.waitSealed(last);
  const br = await expectBreak(ctx, tenant, 'entry_out_of_order', { height: 6, seq: seqs[5]! });
  assert.match(br.message, `was moved to seq ${last}`);
});

test('replay an event (store an exact copy): entry_duplicated once the sealer seals it', async (ctx) => {
  const { tenant, seqs } = await sealed(ctx);
  const copy = await republish(ctx, await take(ctx, seqs[1]!));
  await ctx.sealer.waitSealed(copy);
  const b = await expectBreak(ctx, tenant, 'entry_duplicated', { height: 9, seq: copy });
  assert.match(b.message, 'a second time');
});

/** A block extending the tenant's chain over `seq`, signed with `sign` under `keyId`. */
async function forgedBlock(ctx: Ctx, tenant: string, keyId: string, sign: (text: string) => string): Promise<void> {
  const last = (await ctx.jsm.streams.getMessage(LEDGER_STREAM, { last_by_subj: ledgerSubject(tenant) }))!;
  const prev = parseBlock(last.data, {});
  const fake = `${'0'.repeat(63)}1`;
  const unsigned = {
    format: BLOCK_FORMAT,
    tenant,
    index: prev.index + 1,
    firstHeight: prev.lastHeight + 1,
    lastHeight: prev.lastHeight + 1,
    prevHead: prev.head,
    head: entryHash(tenant, prev.lastHeight + 1, prev.head, fake),
    root: '0'.repeat(64),
    lastSeq: prev.lastSeq + 1,
    keyId,
    sealedAt: new Date().toISOString(),
  };
  const block: Block = { ...unsigned, entries: [[prev.lastSeq + 1, 'forged', fake]], edge: [], sig: sign(blockSignedText(unsigned)) };
  await jetstream(ctx.f.nc).publish(ledgerSubject(tenant), JSON.stringify(block));
}

test('publish a block signed with another key: unknown_key; under our key id: bad_signature', async (ctx) => {
  const own = await sealed(ctx, 4);
  const evil = generateKeyPairSync('ed25519').privateKey;
  await forgedBlock(ctx, own.tenant, keyIdOf(evil), (t) => signText(evil, t));
  const b = await expectBreak(ctx, own.tenant, 'unknown_key', { height: 5 });
  assert.match(b.message, `signed by unknown key ${keyIdOf(evil)}`);

  const other = await sealed(ctx, 4);
  await forgedBlock(ctx, other.tenant, ctx.sealer.keyId, (t) => signText(evil, t));
  await expectBreak(ctx, other.tenant, 'bad_signature', { height: 5 });
});

test('replay a stored block: entry_duplicated; a new block re-using an old signature: bad_signature', async (ctx) => {
  const { tenant } = await sealed(ctx, 4);
  const last = (await ctx.jsm.streams.getMessage(LEDGER_STREAM, { last_by_subj: ledgerSubject(tenant) }))!;
  await jetstream(ctx.f.nc).publish(ledgerSubject(tenant), last.data);
  const dup = await expectBreak(ctx, tenant, 'entry_duplicated', { height: 1 });
  assert.match(dup.message, 'repeats heights 1..4');

  const other = await sealed(ctx, 4);
  const b = parseBlock((await ctx.jsm.streams.getMessage(LEDGER_STREAM, { last_by_subj: ledgerSubject(other.tenant) }))!.data, {});
  // A block with the next index and heights, re-using a valid signature over other fields.
  const altered: Block = { ...b, index: b.index + 1, firstHeight: b.lastHeight + 1, lastHeight: b.lastHeight + 4, prevHead: b.head };
  await jetstream(ctx.f.nc).publish(ledgerSubject(other.tenant), JSON.stringify(altered));
  await expectBreak(ctx, other.tenant, 'bad_signature', { height: 5 });
});

test('the sealer refuses to extend a head it did not sign, and says so in its status', async (ctx) => {
  const { tenant } = await sealed(ctx, 4);
  const evil = generateKeyPairSync('ed25519').privateKey;
  await forgedBlock(ctx, tenant, keyIdOf(evil), (t) => signText(evil, t));
  // The running sealer learns of the foreign head when its next append is refused by the server.
  const next = await ctx.f.append(tenant, 1);
  const fresh = await ctx.f.sealer({ consumerName: 'refusing', blockMaxEntries: 4 });
  try {
    await fresh.waitSealed(next);
    const c = fresh.chain(tenant)!;
    assert.ok(c.refused?.includes('refusing to extend'), JSON.stringify(c));
    assert.is(c.height, 0);
  } finally {
    await fresh.close();
  }
  const r = await verifyLedger({ streams: await doorOf(ctx.f.nc), tenants: [tenant] });
  assert.is(r.tenants[0]!.break?.kind, 'unknown_key');
});

test('a forged key record is not trusted, lets no block verify, and does not stop a sealer', async (ctx) => {
  const evil = generateKeyPairSync('ed25519').privateKey;
  const record: KeyRecord = { format: 1, keyId: keyIdOf(evil), prevKeyId: null, at: new Date().toISOString(), publicKey: publicKeyPem(evil), sig: '' };
  record.sig = signText(evil, keyRecordSignedText(record));
  await jetstream(ctx.f.nc).publish('ledger-keys', JSON.stringify(record));
  await jetstream(ctx.f.nc).publish('ledger-keys', 'not json');
  const { tenant } = await sealed(ctx, 2);
  await forgedBlock(ctx, tenant, record.keyId, (t) => signText(evil, t));
  const r = await verifyLedger({ streams: await doorOf(ctx.f.nc), tenants: [tenant] });
  assert.equal(
    r.keys.filter((k) => k.keyId === record.keyId).map((k) => k.trusted),
    [false],
  );
  assert.is(r.tenants[0]!.break?.kind, 'unknown_key');
  const another = await ctx.f.sealer({ consumerName: 'after-forged-key' });
  await another.close();
});

test('an event left unsealed beyond the sealing window: unsealed', async (ctx) => {
  // A tenant no sealer owns stays unsealed, like one whose sealer is down.
  const tenant = freshTenant('unowned');
  const seq = await ctx.f.append(tenant, 1);
  const r = await verifyLedger({ streams: await doorOf(ctx.f.nc), tenants: [tenant] });
  assert.ok(r.ok, 'within the window it is pending, not a break');
  assert.is(r.tenants[0]!.pending, 1);
  await expectBreak(ctx, tenant, 'unsealed', { seq, height: 1, now: () => new Date(Date.now() + 120_000) });
});

test.run();
