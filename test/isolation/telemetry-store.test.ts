import { join } from 'node:path';
import { Level } from 'level';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TELEMETRY_PROJECTIONS } from '../../projections/telemetry.ts';
import { PRODUCTS } from '../../src/domain/products.ts';
import { EventLog } from '../../src/log/mod.ts';
import { createLogger } from '../../src/logger.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { encodeCursor, pad } from '../../src/store/keys.ts';
import { storeTelemetryBatch } from '../../src/telemetry/ingest.ts';
import { telemetryRoot } from '../../src/telemetry/items.ts';
import type { StreamProjector } from '../../src/projector/stream-projector.ts';
import { openTelemetryProjector } from '../../src/telemetry/projector.ts';
import { telemetryStreamSpec } from '../../src/telemetry/stream.ts';
import { accountItem, connectionItem, processItem } from '../edr/items.ts';
import { freshTenant } from '../helpers/events.ts';
import { natsFixture, tempDir } from '../helpers/nats.ts';

/**
 * The telemetry read models (fed by TELEMETRY, not EVENTS) behind the same wall: two tenants whose
 * agents report the very same items (same pids, accounts, groups), and nothing of B is reachable
 * through A's handle by any read method.
 */
const test = suite('isolation: the telemetry read models');

test('two tenants with identical telemetry: every collection, every read method, nothing of B through A', async () => {
  const nats = await natsFixture();
  const dir = await tempDir('stk-tm-iso-');
  const nc = await connectNats({ servers: nats.url });
  const log = await EventLog.connect(nc);
  const db = new Level<string, unknown>(join(dir.path, 'level'), { valueEncoding: 'json' });
  await db.open();
  let projector: StreamProjector | null = null;
  try {
    await log.streams.ensureStream(telemetryStreamSpec());
    projector = await openTelemetryProjector(db, log.streams, TELEMETRY_PROJECTIONS, { durableName: 'tm_test', logger: createLogger({ level: 'warn' }) });
    await projector.start();
    const a = freshTenant('a');
    const b = freshTenant('b');
    // The same agent id and the same items in both tenants: only the tenant tells them apart.
    const agentId = 'same-agent-id-in-both-ab';
    const items = [
      processItem(77),
      connectionItem(22),
      accountItem('root', { uid: 0, privileged: true }),
      accountItem('alice', { change: 'group-member-added', group: 'sudo', privileged: true }),
    ];
    let last = 0;
    for (const tenant of [a, b]) {
      const r = await storeTelemetryBatch(log, { tenant, agentId, products: PRODUCTS }, { batchId: 'b1', merkleRoot: telemetryRoot(items), items });
      last = Math.max(last, r.telemetryPosition);
    }
    assert.ok(await projector.waitFor(last, 10_000));
    const s = projector.store;
    let checked = 0;
    for (const p of s.projections) {
      for (const [collection, spec] of Object.entries(p.collections)) {
        const bDocs = (await s.forTenant(b).list(collection, { limit: 200 })).items;
        const aDocs = (await s.forTenant(a).list(collection, { limit: 200 })).items;
        assert.ok(bDocs.length > 0 && aDocs.length > 0, `${collection} has items in both tenants`);
        for (const d of bDocs) {
          // Ids derived from the same facts are the same in both tenants: what A reads is A's own.
          const seen = await s.forTenant(a).get(collection, d.id);
          if (seen) assert.ok(aDocs.some((x) => x.seq === seen.seq) && seen.seq !== d.seq, `get(${collection}) through A returned B's document`);
          checked++;
        }
        assert.not.ok(
          aDocs.some((x) => bDocs.some((y) => y.seq === x.seq)),
          `list(${collection}) of A shows none of B (B's items are at other TELEMETRY sequences)`,
        );
        for (const field of spec.indexes) {
          const v = bDocs[0]![field];
          if (v === undefined || v === null) continue;
          const inA = await s.forTenant(a).list(collection, { filter: { [field]: String(v) } });
          assert.not.ok(
            inA.items.some((x) => bDocs.some((y) => y.seq === x.seq)),
            `list(${collection}, ${field}) of A`,
          );
        }
        const forged = encodeCursor(`${pad(Number.MAX_SAFE_INTEGER)}!${bDocs[0]!.id}`);
        const page = await s.forTenant(a).list(collection, { cursor: forged });
        assert.not.ok(page.items.some((x) => bDocs.some((y) => y.seq === x.seq)));
      }
    }
    assert.ok(checked >= 5);
  } finally {
    await projector?.stop();
    await db.close();
    log.close();
    await nc.close();
    await nats.stop();
    await dir.cleanup();
  }
});

test.run();
