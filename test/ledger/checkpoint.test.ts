import { doorOf } from '../helpers/nats.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { readCheckpointFile } from '../../src/ledger/checkpoint.ts';
import type { Checkpoint } from '../../src/ledger/format.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { rejects } from '../helpers/assert.ts';
import { freshTenant, ledgerFixture } from './fixture.ts';

const test = suite('ledger checkpoints: on a timer, to LEDGER, a file and a witness URL');

test('the sealer signs heads every interval and sends them off-host; verify --checkpoint accepts them', async () => {
  const f = await ledgerFixture();
  const received: Checkpoint[] = [];
  let wake: (() => void) | null = null;
  const witness = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push(JSON.parse(body) as Checkpoint);
      res.writeHead(204).end();
      wake?.();
    });
  });
  await new Promise<void>((r) => witness.listen(0, '127.0.0.1', r));
  try {
    const t = freshTenant();
    const file = join(f.dir, 'checkpoint.json');
    const port = (witness.address() as { port: number }).port;
    const sealer = await f.sealer({ checkpointIntervalMs: 30, checkpointFile: file, witnessUrl: `http://127.0.0.1:${port}/checkpoints` });
    await sealer.waitSealed(await f.append(t, 12));
    const reached = () => received.find((c) => c.heads.some((h) => h.tenant === t && h.height === 12));
    while (!reached()) await new Promise<void>((r) => (wake = r));
    const cp = reached()!;
    assert.is(cp.keyId, sealer.keyId);
    // The file is written before the witness is called, so it holds this checkpoint or a newer one.
    const saved = await readCheckpointFile(file);
    assert.ok(saved.at >= cp.at);
    assert.equal(
      saved.heads.find((h) => h.tenant === t),
      { tenant: t, height: 12, head: sealer.chain(t)!.head },
    );
    const v = await verifyLedger({ streams: await doorOf(f.nc), tenants: [t], checkpoint: cp });
    assert.ok(v.ok && v.checkpoint?.ok, JSON.stringify(v));

    // A checkpoint whose signature was tampered with is refused as a whole.
    const forged = { ...cp, heads: cp.heads.map((h) => (h.tenant === t ? { ...h, height: 11 } : h)) };
    const bad = await verifyLedger({ streams: await doorOf(f.nc), tenants: [t], checkpoint: forged });
    assert.is(bad.ok, false);
    assert.is(bad.checkpoint?.message, 'checkpoint signature does not verify');
    await rejects(readCheckpointFile(join(f.dir, 'missing.json')), 'STK_ERR_LEDGER_CHECKPOINT');
  } finally {
    witness.close();
    await f.close();
  }
});

test.run();
