import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { EventLog } from '../../src/log/mod.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { newId } from '../../src/ids.ts';
import { parseBlock } from '../../src/ledger/format.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { natsFixture, doorOf } from '../helpers/nats.ts';
import { runCli, type CliProcess } from '../helpers/proc.ts';
import { freshTenant } from './fixture.ts';

const test = suite('ledger crash: a separate sealer killed (SIGKILL) mid-stream resumes with no gap and no duplicate');

test('kill the sealer twice while records and blocks are flowing; every record ends up sealed exactly once', async () => {
  const nats = await natsFixture();
  const nc = await connectNats({ servers: nats.url });
  const sealers: CliProcess[] = [];
  try {
    const log = await EventLog.connect(nc);
    const keyDir = join(nats.dir, 'keys');
    const tenants = [freshTenant(), freshTenant(), freshTenant()];
    const start = (): CliProcess => {
      const p = runCli(['sealer', '--nats-url', nats.url, '--key-dir', keyDir, '--block-max-entries', '7', '--block-max-ms', '5']);
      sealers.push(p);
      return p;
    };
    // Blocks seen so far, and a way to wait for the n-th one or for a sequence to be sealed.
    let blocks = 0;
    const sealedSeq = new Map<string, number>();
    let wake: (() => void) | null = null;
    const sub = nc.subscribe('ledger.>', {
      callback: (_e, m) => {
        const b = parseBlock(m.data, {});
        blocks++;
        sealedSeq.set(b.tenant, Math.max(sealedSeq.get(b.tenant) ?? 0, b.lastSeq));
        wake?.();
      },
    });
    // A guard, not a wait: a record left unsealed must fail the test rather than hang it.
    const until = async (cond: () => boolean, what: string): Promise<void> => {
      const deadline = Date.now() + 30_000;
      while (!cond()) {
        if (Date.now() > deadline)
          throw new Error(`not within 30 s: ${what}; sealed through ${JSON.stringify([...sealedSeq])}, last appended ${JSON.stringify([...lastOf])}`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 1000).unref();
        });
      }
    };

    const lastOf = new Map<string, number>();
    const counts = new Map<string, number>(tenants.map((t) => [t, 0]));
    let appended = 0;
    const appendSome = async (n: number): Promise<void> => {
      await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const tenant = tenants[(appended + i) % tenants.length]!;
          const r = await log.appendOrThrow({ tenant, aggregateType: 'evidence', aggregateId: newId() }, [{ type: 'evidence.custody', data: { step: i } }], {
            expectedVersion: 'no_stream',
          });
          lastOf.set(tenant, Math.max(lastOf.get(tenant) ?? 0, r.position));
          counts.set(tenant, counts.get(tenant)! + 1);
        }),
      );
      appended += n;
    };

    let sealer = start();
    await sealer.waitFor(/sealer is running/);
    const writer = (async () => {
      for (let round = 0; round < 30; round++) await appendSome(20);
    })();
    await until(() => blocks >= 10, '10 blocks');
    await sealer.kill();
    sealer = start();
    await sealer.waitFor(/sealer is running/);
    await until(() => blocks >= 40, '40 blocks');
    await sealer.kill();
    await writer;
    sealer = start();
    await sealer.waitFor(/sealer is running/);
    await until(() => tenants.every((t) => (sealedSeq.get(t) ?? 0) >= lastOf.get(t)!), 'every record sealed');
    sub.unsubscribe();

    const r = await verifyLedger({ streams: await doorOf(nc), tenants });
    assert.ok(r.ok, JSON.stringify(r.tenants.map((t) => t.break ?? t.tenant)));
    for (const t of r.tenants) {
      assert.is(t.entries, counts.get(t.tenant), `${t.tenant}: every record once`);
      assert.is(t.height, counts.get(t.tenant));
      assert.is(t.pending, 0);
    }
    log.close();
  } finally {
    for (const s of sealers) await s.kill();
    await nc.close();
    await nats.stop();
  }
});

test.run();
