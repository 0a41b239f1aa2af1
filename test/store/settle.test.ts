import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Level } from 'level';
import { defineProjection } from '../../projections/define.ts';
import type { EventEnvelope } from '../../src/domain/events.ts';
import { ModelWriter, prefetchModels, RawBatch } from '../../src/store/batch.ts';
import type { Doc } from '../../src/store/model.ts';
import { ReadStore } from '../../src/store/store.ts';
import { tempDir } from '../helpers/nats.ts';

/**
 * A document changed by several events of one batch goes into the batch once, as it ends, with its
 * index and sort entries moved from the version stored before the batch: the database ends exactly
 * as it does when every event is its own batch.
 */
const test = suite('store: documents settled once per batch');

interface Task extends Doc {
  state: string;
  owner: string | null;
  rank: number;
}

// Tasks move between states (indexed), change owner (indexed, may be null) and rank (sorted); one
// per-tenant counts document changes with every event; a task can be deleted and created again.
const tasks = defineProjection({
  model: 'tasks',
  main: 'tasks',
  collections: {
    tasks: { indexes: ['state', 'owner'], sorts: { rank: (d) => String((d as Task).rank).padStart(6, '0') } },
    taskcounts: { indexes: [] },
  },
  on: {
    'task.set': {
      reads: (e) => [
        { collection: 'tasks', id: e.aggregate.id },
        { collection: 'taskcounts', id: 'all' },
      ],
      apply: (e, docs, position) => {
        const d = e.data as { state: string; owner: string | null; rank: number; fresh?: boolean };
        const old = docs.get<Task>('tasks', e.aggregate.id);
        const counts = docs.get<Doc & { n: number }>('taskcounts', 'all');
        return [
          {
            collection: 'tasks',
            id: e.aggregate.id,
            doc: { id: e.aggregate.id, seq: d.fresh || !old ? position : old.seq, state: d.state, owner: d.owner, rank: d.rank },
          },
          { collection: 'taskcounts', id: 'all', doc: { id: 'all', seq: counts?.seq ?? position, n: (counts?.n ?? 0) + 1 } },
        ];
      },
    },
    'task.deleted': {
      apply: (e) => [{ collection: 'tasks', id: e.aggregate.id, doc: null }],
    },
  },
});

function event(i: number, type: string, id: string, data: unknown): EventEnvelope {
  return {
    id: `e${i}`,
    type,
    tenant: 'acme',
    aggregate: { type: 'task', id },
    version: i,
    at: new Date(Date.UTC(2026, 11, 1, 0, 0, i)).toISOString(),
    actor: { kind: 'system', id: 'test' },
    causationId: null,
    correlationId: null,
    schema: 1,
    data,
  } as EventEnvelope;
}

// A history that exercises every path: changed index values, a null index value, a re-sorted rank,
// a delete and a re-creation (new seq) in the same batch, documents written once and many times.
const history: Array<{ e: EventEnvelope; position: number }> = [
  ['task.set', 't1', { state: 'open', owner: 'ann', rank: 5 }],
  ['task.set', 't2', { state: 'open', owner: null, rank: 1 }],
  ['task.set', 't1', { state: 'doing', owner: 'bob', rank: 5 }],
  ['task.set', 't3', { state: 'open', owner: 'ann', rank: 9 }],
  ['task.set', 't1', { state: 'done', owner: null, rank: 2 }],
  ['task.deleted', 't2', {}],
  ['task.set', 't2', { state: 'open', owner: 'cy', rank: 3, fresh: true }],
  ['task.set', 't3', { state: 'open', owner: 'ann', rank: 9 }],
  ['task.deleted', 't3', {}],
  ['task.set', 't1', { state: 'open', owner: 'ann', rank: 7 }],
].map(([type, id, data], i) => ({ e: event(i + 1, type as string, id as string, data), position: i + 1 }));

/** A batch that counts what goes into it. */
class CountingBatch extends RawBatch {
  puts = 0;
  override put(key: string, value: string): void {
    this.puts++;
    super.put(key, value);
  }
}

async function run(batches: Array<typeof history>): Promise<{ rows: Array<[string, string]>; puts: number }> {
  const dir = await tempDir('stk-settle-');
  const db = new Level<string, unknown>(join(dir.path, 'level'), { valueEncoding: 'json' });
  await db.open();
  try {
    const store = await ReadStore.open(db, [tasks]);
    const writer = new ModelWriter(store, tasks, 1, 0);
    let puts = 0;
    for (const items of batches) {
      const batch = new CountingBatch(db);
      writer.into(batch);
      await prefetchModels(db, [writer], items);
      for (const { e, position } of items) {
        const applied = writer.apply(e, position);
        if (applied) await applied;
      }
      writer.settle();
      puts += batch.puts;
      await batch.write();
      writer.flushed();
      writer.advance(items.at(-1)!.position);
    }
    return { rows: await dump(db), puts };
  } finally {
    await db.close();
    await dir.cleanup();
  }
}

const b64 = (v: string): string => Buffer.from(v).toString('base64url');
const hex = (v: string): string => Buffer.from(v).toString('hex');

async function dump(db: Level<string, unknown>): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for await (const [k, v] of db.iterator({ valueEncoding: 'utf8' })) out.push([k, v as string]);
  return out;
}

test('one batch of the whole history ends exactly as one batch per event, every index entry in step', async () => {
  const perEvent = await run(history.map((h) => [h]));
  const whole = await run([history]);
  const split = await run([history.slice(0, 4), history.slice(4, 7), history.slice(7)]);
  assert.equal(whole.rows, perEvent.rows);
  // t1 is set four times and the counts document eight times: written once each in the one batch.
  assert.ok(whole.puts < perEvent.puts - 10, `one batch puts ${whole.puts}, one per event ${perEvent.puts}`);
  assert.equal(split.rows, perEvent.rows);
  // What the final documents call for (index values in base64url, sort values in hex), and nothing
  // left of the versions in between: no `doing`/`done` state, no owner `bob`, no t3, no old ranks.
  const pre = '!rm!!tasks-1!!acme!';
  assert.equal(
    whole.rows
      .map(([k]) => k)
      .filter((k) => k.startsWith(pre))
      .map((k) => k.slice(pre.length)),
    [
      'taskcounts!a!0000000000000001!all',
      'taskcounts!d!all',
      'tasks!a!0000000000000001!t1',
      'tasks!a!0000000000000007!t2',
      'tasks!d!t1',
      'tasks!d!t2',
      `tasks!i!owner!${b64('cy')}!0000000000000007!t2`,
      `tasks!i!owner!${b64('ann')}!0000000000000001!t1`,
      `tasks!i!state!${b64('open')}!0000000000000001!t1`,
      `tasks!i!state!${b64('open')}!0000000000000007!t2`,
      `tasks!s!rank!${hex('000003')}!0000000000000007!t2`,
      `tasks!s!rank!${hex('000007')}!0000000000000001!t1`,
    ],
  );
  const counts = whole.rows.find(([k]) => k.includes('taskcounts!d!all'));
  assert.is(JSON.parse(counts![1]).n, 8, 'the counts document saw every set');
});

test('a batch left unsettled is refused before the next one begins, not silently lost', async () => {
  const dir = await tempDir('stk-settle-');
  const db = new Level<string, unknown>(join(dir.path, 'level'), { valueEncoding: 'json' });
  await db.open();
  try {
    const store = await ReadStore.open(db, [tasks]);
    const writer = new ModelWriter(store, tasks, 1, 0, { fresh: true });
    writer.into(new RawBatch(db));
    const applied = writer.apply(history[0]!.e, 1);
    if (applied) await applied;
    assert.throws(() => writer.into(new RawBatch(db)), /never settled/);
  } finally {
    await db.close();
    await dir.cleanup();
  }
});

test.run();
