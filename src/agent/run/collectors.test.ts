import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TELEMETRY_ITEM_MAX_BYTES, itemBytes, telemetryRoot } from '../../telemetry/items.ts';
import type { ProcessItem } from '../../telemetry/types.ts';
import { telemetryEntries } from './collectors.ts';

const test = suite('agent: telemetry batches');

const proc = (pid: number, cmdline = `sleep ${pid}`): ProcessItem => ({
  kind: 'process',
  pid,
  ppid: 1,
  uid: 0,
  user: 'root',
  exe: '/usr/bin/sleep',
  name: 'sleep',
  sha256: null,
  cmdline,
  cmdlineTruncated: false,
  startedAt: '2026-01-01T00:00:00.000Z',
  cwd: null,
  parentExe: null,
  parentName: null,
  parentCmdline: cmdline,
});

test('items are split by count and by size, each batch with a fresh id and the root of its items', () => {
  const items = Array.from({ length: 25 }, (_, i) => proc(i + 1));
  const byCount = telemetryEntries('edr', items, { maxBatchItems: 10, maxBatchBytes: 1 << 20 });
  assert.equal(
    byCount.map((e) => (e.kind === 'telemetry' ? e.batch.items.length : 0)),
    [10, 10, 5],
  );
  assert.is(new Set(byCount.map((e) => e.batch.batchId)).size, 3);
  for (const e of byCount) if (e.kind === 'telemetry') assert.is(e.batch.merkleRoot, telemetryRoot(e.batch.items));
  const bySize = telemetryEntries('edr', items, { maxBatchItems: 1000, maxBatchBytes: 3000 });
  assert.equal(
    bySize.map((e) => (e.kind === 'telemetry' ? e.batch.items.length : 0)),
    [9, 8, 8],
  );
  for (const e of bySize) if (e.kind === 'telemetry') assert.ok(JSON.stringify(e.batch.items).length <= 3000 * 0.8 + 20);
  assert.equal(telemetryEntries('edr', [], { maxBatchItems: 10, maxBatchBytes: 1000 }), []);
});

test('a process whose command lines would make it too large for the ingress is cut to fit and flagged', () => {
  // Control characters are six bytes each in JSON: 20,000 of them twice is far over 64 KiB.
  const huge = proc(7, '\u0001'.repeat(20_000));
  const [entry] = telemetryEntries('edr', [huge, proc(8)], { maxBatchItems: 10, maxBatchBytes: 4 << 20 });
  assert.ok(entry?.kind === 'telemetry');
  const fitted = entry.batch.items[0] as ProcessItem;
  assert.is(fitted.cmdlineTruncated, true);
  assert.ok(itemBytes([fitted])[0]!.length <= TELEMETRY_ITEM_MAX_BYTES);
  assert.ok(fitted.cmdline.length > 0 && huge.cmdline.startsWith(fitted.cmdline));
  assert.equal(entry.batch.items[1], proc(8), 'items that fit are left alone');
});

test.run();
