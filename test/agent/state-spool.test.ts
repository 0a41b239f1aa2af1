import { appendFile, chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Spool, type SpoolEntry, StateDir } from '../../src/agent/mod.ts';
import { rejects } from '../helpers/assert.ts';
import { tempDir } from '../helpers/nats.ts';

const test = suite('agent: state folder and disk spool');

const ctx = {} as { dir: { path: string; cleanup(): Promise<void> } };
test.before(async () => {
  ctx.dir = await tempDir('stk-state-');
});
test.after(async () => {
  await ctx.dir.cleanup();
});

let n = 0;
const fresh = (): string => join(ctx.dir.path, `case-${++n}`);

async function drain<T>(spool: Spool<T>): Promise<Array<SpoolEntry<T>>> {
  const got: Array<SpoolEntry<T>> = [];
  await spool.replay(async (e) => {
    got.push(e);
    return true;
  });
  return got;
}

test('state folder: 0700 even when it existed wider, files 0600, values round-trip, names checked, corrupt files named', async () => {
  const dir = fresh();
  await mkdir(dir, { mode: 0o755 });
  await chmod(dir, 0o755);
  const state = await StateDir.open(dir);
  assert.is((await stat(dir)).mode & 0o777, 0o700);
  assert.is(await state.read('processes'), null);
  await state.write('processes', { version: 1, seen: ['1:2'] });
  assert.equal(await state.read('processes'), { version: 1, seen: ['1:2'] });
  assert.is((await stat(join(dir, 'processes.json'))).mode & 0o777, 0o600);
  const inode = (await stat(join(dir, 'processes.json'))).ino;
  await state.write('processes', { version: 1, seen: [] });
  assert.is.not((await stat(join(dir, 'processes.json'))).ino, inode, 'replaced by rename, not rewritten in place');
  assert.equal(await readdir(dir), ['processes.json'], 'no temp files left');
  await rejects(state.write('../escape', {}), 'STK_ERR_INVALID_ID');
  await writeFile(join(dir, 'broken.json'), '{"half":');
  const err = await rejects(state.read('broken'), 'STK_ERR_AGENT_STATE_CORRUPT');
  assert.is(err.data.file, join(dir, 'broken.json'));
  await state.remove('broken');
  assert.is(await state.read('broken'), null);
});

test('state folder: a temp file left by a write a crash interrupted is removed on open; the value before it stays', async () => {
  const dir = fresh();
  const state = await StateDir.open(dir);
  await state.write('connections', { version: 1, seen: ['a'] });
  // What a crash between writing the temp file and renaming it leaves behind.
  await writeFile(join(dir, 'connections.json.tmp-4242-0a1b2c3d'), '{"version":1,"se');
  await writeFile(join(dir, 'notes.txt'), 'not ours');
  const again = await StateDir.open(dir);
  assert.equal((await readdir(dir)).sort(), ['connections.json', 'notes.txt']);
  assert.equal(await again.read('connections'), { version: 1, seen: ['a'] });
});

test('spool: batches come back in order, across a restart, and sequence numbers keep growing', async () => {
  const dir = fresh();
  const a = await Spool.open<{ events: number[] }>({ dir, maxBytes: 64 * 1024 });
  for (let i = 1; i <= 5; i++) assert.is((await a.append({ events: [i, i] }, 2)).seq, i);
  assert.equal((await a.peek())!.batch, { events: [1, 1] });
  await a.ack(1);
  await a.ack(1); // again: already done, ignored
  await rejects(a.ack(3), 'STK_ERR_VALIDATION');
  assert.equal(a.stats().pendingBatches, 4);

  const b = await Spool.open<{ events: number[] }>({ dir, maxBytes: 64 * 1024 });
  const sent: number[] = [];
  const delivered = await b.replay(async (e) => {
    if (e.seq === 4) return false; // the ingress went away again
    sent.push(e.seq);
    return true;
  });
  assert.is(delivered, 2);
  assert.equal(sent, [2, 3]);
  const c = await Spool.open<{ events: number[] }>({ dir, maxBytes: 64 * 1024 });
  assert.equal(
    (await drain(c)).map((e) => [e.seq, e.items, e.batch.events[0]]),
    [
      [4, 2, 4],
      [5, 2, 5],
    ],
  );
  assert.equal(c.stats(), { pendingBatches: 0, pendingItems: 0, diskBytes: 0, droppedBatches: 0, droppedItems: 0, corruptRecords: 0 });
  assert.is((await c.append({ events: [6] }, 1)).seq, 6, 'no sequence number is used twice');
  const d = await Spool.open({ dir, maxBytes: 64 * 1024 });
  assert.equal(
    (await drain(d)).map((e) => e.seq),
    [6],
  );
  assert.is((await stat(dir)).mode & 0o777, 0o700);
});

test('spool: past its bound it drops the oldest whole batches, counts them, never grows beyond it, and remembers the counts', async () => {
  const dir = fresh();
  const maxBytes = 4096;
  const spool = await Spool.open<{ id: number; pad: string }>({ dir, maxBytes, segmentBytes: 1024 });
  let droppedBatches = 0;
  let droppedItems = 0;
  for (let id = 1; id <= 40; id++) {
    const r = await spool.append({ id, pad: 'p'.repeat(200) }, id);
    droppedBatches += r.droppedBatches;
    droppedItems += r.droppedItems;
    const used = await spool.diskUsage();
    assert.ok(used <= maxBytes, `${used} bytes on disk after batch ${id}`);
    assert.is(spool.stats().diskBytes, used);
  }
  assert.ok(droppedBatches > 0, 'something had to be dropped');
  const stats = spool.stats();
  assert.is(stats.droppedBatches, droppedBatches);
  assert.is(stats.droppedItems, droppedItems);
  assert.is(stats.pendingBatches + droppedBatches, 40);

  const again = await Spool.open<{ id: number; pad: string }>({ dir, maxBytes, segmentBytes: 1024 });
  assert.equal(again.stats(), stats, 'the counts survive a restart');
  const ids = (await drain(again)).map((e) => e.batch.id);
  // What is left is the newest batches, all of them, in order; what was dropped is the oldest.
  assert.equal(
    ids,
    Array.from({ length: 40 - droppedBatches }, (_, i) => droppedBatches + 1 + i),
  );
  assert.is(droppedItems, (droppedBatches * (droppedBatches + 1)) / 2, 'items of batches 1..k');
  const tooBig = await again.append({ id: 99, pad: 'p'.repeat(5000) }, 7);
  assert.equal(tooBig, { seq: null, droppedBatches: 1, droppedItems: 7 });
  assert.is(again.stats().droppedBatches, droppedBatches + 1);
});

test('spool: a torn last line (crash mid-append) is cut off; a damaged line elsewhere is skipped and counted once', async () => {
  const dir = fresh();
  const a = await Spool.open<string>({ dir, maxBytes: 64 * 1024, segmentBytes: 4096 });
  for (const s of ['one', 'two', 'three']) await a.append(s, 1);
  const [seg] = (await readdir(dir)).filter((f) => f.startsWith('seg-'));
  await appendFile(join(dir, seg!), '1234abcd {"s":4,"n":1,"b":"fo');
  const b = await Spool.open<string>({ dir, maxBytes: 64 * 1024, segmentBytes: 4096 });
  assert.is(b.stats().pendingBatches, 3);
  await b.append('four', 1);
  assert.equal(
    (await drain(b)).map((e) => [e.seq, e.batch]),
    [
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
      [4, 'four'],
    ],
  );

  const dir2 = fresh();
  const c = await Spool.open<string>({ dir: dir2, maxBytes: 64 * 1024 });
  for (const s of ['alpha', 'bravo', 'charlie']) await c.append(s, 1);
  const [seg2] = (await readdir(dir2)).filter((f) => f.startsWith('seg-'));
  assert.is((await stat(join(dir2, seg2!))).mode & 0o777, 0o600);
  const text = await readFile(join(dir2, seg2!), 'utf8');
  await writeFile(join(dir2, seg2!), text.replace('bravo', 'BRAVO'));
  const d = await Spool.open<string>({ dir: dir2, maxBytes: 64 * 1024 });
  assert.equal({ corrupt: d.stats().corruptRecords, dropped: d.stats().droppedBatches }, { corrupt: 1, dropped: 1 });
  const e = await Spool.open<string>({ dir: dir2, maxBytes: 64 * 1024 });
  assert.is(e.stats().droppedBatches, 1, 'counted once, not on every open');
  assert.equal(
    (await drain(e)).map((x) => x.batch),
    ['alpha', 'charlie'],
  );
});

test('spool: a bound below 1 KiB is refused', async () => {
  await rejects(Spool.open({ dir: fresh(), maxBytes: 10 }), 'STK_ERR_CONFIG');
});

test.run();
