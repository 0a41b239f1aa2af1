import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '../../src/nats/connect.ts';
import { Streams } from '../../src/log/mod.ts';
import { newId } from '../../src/ids.ts';
import { natsFixture } from '../helpers/nats.ts';

type Ctx = { nats: Awaited<ReturnType<typeof natsFixture>>; nc: NatsConnection; streams: Streams; disconnects: number };
const test = suite<Ctx>('door pulls: bounded in bytes, so a busy reader of large records is never cut off as a slow consumer');

const STREAM = 'PULLBYTES';
/** An agent report of 100 alerts is about this size (one commit per report). */
const RECORD_BYTES = 65_000;
/** 97 MB in all: more than nats-server buffers for one connection (64 MiB) on top of the socket's own buffers. */
const RECORDS = 1_500;
/** Event-loop time the reader spends on each record: a process with other work, as every role is. */
const BUSY_MS = 2;

test.before(async (ctx) => {
  ctx.nats = await natsFixture();
  ctx.nc = await connectNats({ servers: ctx.nats.url });
  ctx.disconnects = 0;
  void (async () => {
    for await (const s of ctx.nc.status()) if (s.type === 'disconnect') ctx.disconnects++;
  })();
  ctx.streams = await Streams.open(ctx.nc);
  await ctx.streams.ensureStream({ name: STREAM, subjects: ['pb.>'] });
});
test.after(async (ctx) => {
  await ctx.nc?.close();
  await ctx.nats?.stop();
});

async function fill(streams: Streams, subject: string): Promise<number[]> {
  const body = Buffer.alloc(RECORD_BYTES, 7);
  const seqs: number[] = [];
  for (let i = 0; i < RECORDS; i += 50) {
    const acks = await Promise.all(Array.from({ length: 50 }, () => streams.publish(subject, body, { msgId: newId() })));
    seqs.push(...acks.map((a) => a.seq));
  }
  return seqs.sort((a, b) => a - b);
}

/** Holds the event loop, as a process applying records (or doing anything else) does. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

test('a scan of large records by a busy reader reads every one, on the same connection', async (ctx) => {
  const subject = `pb.${newId().toLowerCase()}`;
  const seqs = await fill(ctx.streams, subject);
  const before = ctx.disconnects;
  const seen: number[] = [];
  // With thousands of messages asked per pull, nats-server runs ahead of the reader by all 97 MB,
  // cuts the connection as a slow consumer, and the scan fails as "delivered nothing".
  for await (const m of ctx.streams.scan(STREAM, { filter: subject })) {
    seen.push(m.seq);
    busy(BUSY_MS);
  }
  assert.equal(seen, seqs);
  assert.is(ctx.disconnects, before, 'the connection was never cut');
});

test('a durable consumer of large records with a busy reader takes every one, on the same connection', async (ctx) => {
  const subject = `pb.${newId().toLowerCase()}`;
  const seqs = await fill(ctx.streams, subject);
  const before = ctx.disconnects;
  const name = `pb-${newId().toLowerCase()}`;
  await ctx.streams.ensureConsumer(STREAM, { name, filter: subject, ackPolicy: 'all', ackWaitMs: 300_000, maxAckPending: 100_000 });
  const messages = await ctx.streams.consume(STREAM, name, { max: 4096, inOrder: true });
  const seen: number[] = [];
  for await (const m of messages) {
    seen.push(m.seq);
    busy(BUSY_MS);
    if (seen.length % 100 === 0 || seen.length === seqs.length) m.ack();
    if (seen.length === seqs.length) break;
  }
  await messages.close();
  assert.equal(seen, seqs);
  assert.is(ctx.disconnects, before, 'the connection was never cut');
});

test.run();
