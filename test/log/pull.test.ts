import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '../../src/nats/connect.ts';
import { Streams } from '../../src/log/mod.ts';
import { CallCounts } from '../../src/log/calls.ts';
import { PullFeed } from '../../src/log/pull.ts';
import { PULL_MAX_BYTES } from '../../src/log/streams.ts';
import { newId } from '../../src/ids.ts';
import { natsFixture } from '../helpers/nats.ts';
import { withDeadline } from '../helpers/deadline.ts';

type Ctx = { nats: Awaited<ReturnType<typeof natsFixture>>; nc: NatsConnection; streams: Streams; disconnects: number };
const test = suite<Ctx>('door pulls: a count and a size per request, one request in flight, never stalled by a request the server dropped');

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

test('a scan asks one pull per batch of small records, and one per 8 MiB of large ones', async (ctx) => {
  const small = `pb.${newId().toLowerCase()}`;
  const body = Buffer.alloc(200, 1);
  for (let i = 0; i < 20_000; i += 500) {
    await Promise.all(Array.from({ length: 500 }, () => ctx.streams.publish(small, body, { msgId: newId() })));
  }
  let before = ctx.streams.calls.snapshot().pull;
  let n = 0;
  for await (const _m of ctx.streams.scan(STREAM, { filter: small, batch: 1000 })) n++;
  assert.is(n, 20_000);
  // 20 requests of 1,000 (and one that finds the end): the client library's byte-bounded pulls asked
  // for about 25 messages at a time here (its accounting shrinks each refill to what the last one
  // brought), 800 pulls.
  assert.ok(ctx.streams.calls.snapshot().pull - before <= 22, `pulls: ${ctx.streams.calls.snapshot().pull - before}`);

  const large = `pb.${newId().toLowerCase()}`;
  const seqs = await fill(ctx.streams, large);
  before = ctx.streams.calls.snapshot().pull;
  n = 0;
  for await (const _m of ctx.streams.scan(STREAM, { filter: large })) n++;
  assert.is(n, seqs.length);
  const bytesPerPull = Math.floor(PULL_MAX_BYTES / (RECORD_BYTES + 200));
  const pulls = ctx.streams.calls.snapshot().pull - before;
  assert.ok(pulls >= Math.ceil(RECORDS / bytesPerPull) && pulls <= Math.ceil(RECORDS / (bytesPerPull - 2)) + 2, `pulls: ${pulls}`);
});

/**
 * nats-server 2.9 drops a pull request without a word when a message arrives for it after its
 * expiry but before its expiry timer has run (later versions send a 408). The race is narrow; a
 * stream written fast across many short expiries meets it within seconds. A reader that waits for
 * heartbeats to go missing stalls for two of them each time (it did: the ingress's views fell 5 s
 * behind and refused agents); the feed takes such a request as ended half a second after its expiry.
 */
test('a request the server dropped silently at its expiry is taken as ended, not waited out', async (ctx) => {
  const subject = `pb.${newId().toLowerCase()}`;
  const name = `pb-${newId().toLowerCase()}`;
  await ctx.streams.ensureConsumer(STREAM, { name, filter: subject, ackPolicy: 'all', ackWaitMs: 300_000, maxAckPending: 1_000_000 });
  // Short expiries (the door's are 30 s) and heartbeats far apart: missing two takes longer than the grace.
  const feed = await PullFeed.open({
    nc: ctx.nc,
    stream: STREAM,
    target: { kind: 'durable', name },
    batch: 1_000_000,
    maxBytes: PULL_MAX_BYTES,
    expiresMs: 1000,
    heartbeatMs: 500,
    calls: new CallCounts(),
  });
  let received = 0;
  let previous = 0;
  let ordered = true;
  let published = Number.POSITIVE_INFINITY;
  const reader = (async () => {
    for await (const m of feed) {
      if (m.seq <= previous) ordered = false;
      previous = m.seq;
      if (++received >= published) return;
    }
  })();
  let sent = 0;
  const deadline = Date.now() + 90_000;
  const body = new Uint8Array(16);
  while (feed.stats.silentExpiries < 2 && Date.now() < deadline) {
    await Promise.all(Array.from({ length: 50 }, () => ctx.streams.publish(subject, body, { msgId: newId() })));
    sent += 50;
  }
  published = sent;
  if (received < published) await withDeadline(reader, `the reader to take all ${published} messages (it has ${received})`, 60_000);
  await feed.close();
  assert.ok(feed.stats.silentExpiries >= 2, 'the server dropped requests silently (if a newer nats-server always answers 408, this guard is no longer needed)');
  assert.is(feed.stats.lost, 0, 'no request was waited out until its heartbeats went missing');
  assert.ok(ordered);
});

test.run();
