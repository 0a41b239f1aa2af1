import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { withDeadline } from '../../test/helpers/deadline.ts';
import { LazyAcks } from './lazy-ack.ts';
import type { Delivery } from './streams.ts';

const test = suite('LazyAcks');

/** A delivery that records its ack and lets a test wait for it. */
function delivery(seq: number, acked: number[], onAck?: () => void): Delivery {
  const ack = (): void => {
    acked.push(seq);
    onAck?.();
  };
  return { seq, ack, nak: () => {} } as unknown as Delivery;
}

test('deliveries handled within the interval are acked once, by the newest, when it ends', async () => {
  const acked: number[] = [];
  const acks = new LazyAcks(200);
  let done!: () => void;
  const ended = new Promise<void>((r) => (done = r));
  acks.handled(delivery(1, acked));
  acks.handled(delivery(2, acked));
  acks.handled(delivery(3, acked, done));
  assert.equal(acked, [], 'nothing acked at once');
  await withDeadline(ended, 'the interval to end');
  assert.equal(acked, [3]);
});

test('`now` and flush ack at once; nothing is acked twice; an ack that throws is swallowed', () => {
  const acked: number[] = [];
  const acks = new LazyAcks(60_000);
  acks.handled(delivery(1, acked));
  acks.handled(delivery(2, acked), true);
  assert.equal(acked, [2]);
  acks.flush();
  assert.equal(acked, [2], 'nothing owed after an ack');
  acks.handled(delivery(3, acked));
  acks.flush();
  assert.equal(acked, [2, 3]);
  acks.handled({
    ack: () => {
      throw new Error('connection closed');
    },
  } as unknown as Delivery);
  acks.flush();
});

test.run();
