import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Level } from 'level';
import { RawBatch, putJson } from '../../src/store/batch.ts';
import { tempDir } from '../helpers/nats.ts';

const test = suite('store: raw batches');

async function withDb(fn: (db: Level<string, unknown>) => Promise<void>): Promise<void> {
  const dir = await tempDir('stk-batch-');
  const db = new Level<string, unknown>(join(dir.path, 'level'), { valueEncoding: 'json' });
  await db.open();
  try {
    await fn(db);
  } finally {
    await db.close();
    await dir.cleanup();
  }
}

async function dump(db: Level<string, unknown>): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for await (const [k, v] of db.iterator({ valueEncoding: 'utf8' })) out.push([k, v as string]);
  return out;
}

function fill(db: Level<string, unknown>, b: RawBatch, tenant: string): void {
  const sub = db.sublevel<string, unknown>('rm', { valueEncoding: 'json' }).sublevel<string, unknown>(tenant, { valueEncoding: 'json' });
  putJson(b, sub, 'alerts!d!a1', { id: 'a1', seq: 1, title: 'é ✓ "quoted"' });
  b.put(`${sub.prefix}alerts!a!0000000000000001!a1`, '""');
  b.put(`${sub.prefix}gone`, '1');
  b.del(`${sub.prefix}gone`);
}

test('the fast path writes exactly the bytes the public API writes, readable through the sublevels', async () => {
  let fast: Array<[string, string]> = [];
  let portable: Array<[string, string]> = [];
  await withDb(async (db) => {
    const b = new RawBatch(db);
    fill(db, b, 't1');
    assert.is(b.length, 4);
    await b.write();
    fast = await dump(db);
    const sub = db.sublevel<string, unknown>('rm', { valueEncoding: 'json' }).sublevel<string, unknown>('t1', { valueEncoding: 'json' });
    assert.equal(await sub.get('alerts!d!a1'), { id: 'a1', seq: 1, title: 'é ✓ "quoted"' });
    assert.is(await sub.get('gone'), undefined);
  });
  await withDb(async (db) => {
    const b = new RawBatch(db, { portable: true });
    fill(db, b, 't1');
    await b.write();
    portable = await dump(db);
  });
  assert.is(fast.length, 2);
  assert.equal(fast, portable);
});

test('a discarded batch writes nothing; an empty batch writes and closes cleanly', async () => {
  await withDb(async (db) => {
    const b = new RawBatch(db);
    fill(db, b, 't2');
    await b.discard();
    assert.equal(await dump(db), []);
    await new RawBatch(db).write();
    assert.equal(await dump(db), []);
  });
});

test.run();
