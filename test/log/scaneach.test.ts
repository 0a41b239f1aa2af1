import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '../../src/nats/connect.ts';
import { headerOf, Streams, type StoredMessage } from '../../src/log/mod.ts';
import { newId } from '../../src/ids.ts';
import { natsFixture } from '../helpers/nats.ts';

type Ctx = { nats: Awaited<ReturnType<typeof natsFixture>>; nc: NatsConnection; streams: Streams };
const test = suite<Ctx>('door scanEach: callbacks as messages arrive, paced once a callback waits; headers read in place');

const STREAM = 'SCANEACH';

test.before(async (ctx) => {
  ctx.nats = await natsFixture();
  ctx.nc = await connectNats({ servers: ctx.nats.url });
  ctx.streams = await Streams.open(ctx.nc);
  await ctx.streams.ensureStream({ name: STREAM, subjects: ['se.>'] });
});
test.after(async (ctx) => {
  await ctx.nc?.close();
  await ctx.nats?.stop();
});

const topic = () => `se.${newId().toLowerCase()}`;

/** Publishes `n` messages on `subject` (`<i>` as body), every other one also on a second subject; returns their sequences. */
async function fill(streams: Streams, subject: string, n: number): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < n; i++) {
    const ack = await streams.publish(`${subject}.a`, Buffer.from(String(i)), { msgId: newId(), headers: { 'Stk-Version': String(i) } });
    seqs.push(ack.seq);
    if (i % 2 === 0) await streams.publish(`${subject}.b`, Buffer.from('other'), { msgId: newId() });
  }
  return seqs;
}

test('a callback that never waits sees every match once, in order, and nothing stored after the scan began', async ({ streams }) => {
  const s = topic();
  const seqs = await fill(streams, s, 5000);
  const seen: number[] = [];
  let appended = false;
  const n = await streams.scanEach(STREAM, { filter: `${s}.a` }, (m) => {
    seen.push(m.seq);
    if (!appended) {
      appended = true;
      // Stored after the end was fixed: not part of this scan.
      void streams.publish(`${s}.a`, Buffer.from('late'), { msgId: newId() });
    }
  });
  assert.is(n, 5000);
  assert.equal(seen, seqs);
});

test('a callback that returns a promise is waited for, and the rest of the range is read one message at a time', async ({ streams }) => {
  const s = topic();
  const seqs = await fill(streams, s, 3000);
  const seen: number[] = [];
  let running = 0;
  let overlapped = false;
  const n = await streams.scanEach(STREAM, { filter: `${s}.a` }, (m) => {
    if (running > 0) overlapped = true;
    seen.push(m.seq);
    // From the 1000th message on, every tenth waits a turn of the event loop.
    if (seen.length >= 1000 && seen.length % 10 === 0) {
      running++;
      return new Promise<void>((resolve) =>
        setImmediate(() => {
          running--;
          resolve();
        }),
      );
    }
  });
  assert.is(n, 3000);
  assert.equal(seen, seqs);
  assert.not.ok(overlapped, 'no message is handed out while a callback is still waiting');
});

test('a range with fromSeq and toSeq, and a callback that throws, which ends the scan with its error', async ({ streams }) => {
  const s = topic();
  const seqs = await fill(streams, s, 200);
  const seen: number[] = [];
  const n = await streams.scanEach(STREAM, { filter: `${s}.a`, fromSeq: seqs[50]!, toSeq: seqs[149]! }, (m) => {
    seen.push(m.seq);
  });
  assert.is(n, 100);
  assert.equal(seen, seqs.slice(50, 150));
  let handed = 0;
  const failure = await streams
    .scanEach(STREAM, { filter: `${s}.a` }, () => {
      if (++handed === 20) throw new Error('callback gave up');
    })
    .then(
      () => null,
      (err: Error) => err,
    );
  assert.is(failure?.message, 'callback gave up');
  assert.is(handed, 20);
});

test('a held scan hands nothing out before its hold settles, then every match once and in order, past what it keeps', async ({ streams }) => {
  const s = topic();
  // More messages than a held scan keeps (32,768), so the scan reads on after what it kept. (Small
  // ones: 40 MiB of 64 KiB bodies through one connection of a busy machine made the server drop
  // the connection as a slow consumer, a stress of NATS rather than of the scan.)
  const seqs: number[] = [];
  for (let chunk = 0; chunk < 34; chunk++) {
    const acks = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => streams.publish(`${s}.a`, Buffer.from(String(chunk * 1000 + i)), { msgId: newId() })),
    );
    seqs.push(...acks.map((a) => a.seq));
  }
  seqs.sort((a, b) => a - b);
  let released = false;
  // The hold ends when another full read of the same messages does: the held scan's consumer runs meanwhile.
  const hold = streams
    .scanEach(STREAM, { filter: `${s}.a` }, () => {})
    .then(() => {
      released = true;
    });
  const seen: number[] = [];
  let early = 0;
  const n = await streams.scanEach(STREAM, { filter: `${s}.a`, holdUntil: hold }, (m) => {
    if (!released) early++;
    seen.push(m.seq);
  });
  assert.is(early, 0);
  assert.is(n, seqs.length);
  assert.equal(seen, seqs);
});

test('a held scan whose hold fails ends with that failure, having handed nothing out', async ({ streams }) => {
  const s = topic();
  await fill(streams, s, 50);
  let handed = 0;
  let refuse!: (err: Error) => void;
  const hold = new Promise<void>((_, reject) => {
    refuse = reject;
  });
  const scan = streams.scanEach(STREAM, { filter: `${s}.a`, holdUntil: hold }, () => {
    handed++;
  });
  refuse(new Error('blocks unreadable'));
  const failure = await scan.then(
    () => null,
    (err: Error) => err,
  );
  assert.is(failure?.message, 'blocks unreadable');
  assert.is(handed, 0);
});

test('headerOf reads what the header object reads: present, absent, repeated in the body, non-ASCII, on deliveries and point reads', async ({ streams }) => {
  const s = topic();
  const id = newId();
  await streams.publish(`${s}.h`, Buffer.from('\r\nStk-Version: 99\r\n'), {
    msgId: id,
    expectedLastSubjectSequence: 0,
    headers: { 'Stk-Version': ' 7 ', 'Stk-Note': 'grüße', 'stk-version': 'lower' },
  });
  await streams.publish(`${s}.h`, Buffer.from('\r\nStk-Version: 5\r\n'), { msgId: newId() });
  const names = ['Stk-Version', 'stk-version', 'Stk-Note', 'Nats-Msg-Id', 'Nats-Expected-Last-Subject-Sequence', 'Missing', 'Stk'];
  const messages: StoredMessage[] = [];
  await streams.scanEach(STREAM, { filter: `${s}.h` }, (m) => {
    messages.push(m);
  });
  assert.is(messages.length, 2);
  const point = await streams.at(STREAM, messages[0]!.seq);
  for (const m of [...messages, point!]) for (const name of names) assert.is(headerOf(m, name), m.headers?.get(name) ?? '', `${name} at ${m.seq}`);
  assert.is(headerOf(messages[0]!, 'Stk-Version'), '7');
  assert.is(headerOf(messages[0]!, 'Stk-Note'), 'grüße');
  assert.is(headerOf(messages[0]!, 'Nats-Msg-Id'), id);
  // The second message has no Stk-Version header: the one its body spells out is not read as one.
  assert.is(headerOf(messages[1]!, 'Stk-Version'), '');
});

test.run();
