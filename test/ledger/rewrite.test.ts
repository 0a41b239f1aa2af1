import { doorOf } from '../helpers/nats.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { EVENTS_STREAM } from '../../src/log/mod.ts';
import { readCheckpointFile } from '../../src/ledger/checkpoint.ts';
import { exportLedger } from '../../src/ledger/export.ts';
import { LEDGER_STREAM, ledgerSubject, parseBlock } from '../../src/ledger/format.ts';
import { Keyring } from '../../src/ledger/keys.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { freshTenant, ledgerFixture } from './fixture.ts';
import { docScript, runScript } from './script.ts';

const test = suite('ledger: key rotation, and a rewrite by someone holding the key');

test('key rotation: a new key id, recorded in the ledger; old blocks still verify, export too', async () => {
  const f = await ledgerFixture();
  try {
    const t = freshTenant();
    const first = await f.sealer({ blockMaxEntries: 3 });
    const oldKey = first.keyId;
    await first.waitSealed(await f.append(t, 5));
    await first.close();
    const keyring = await Keyring.open(f.keyDir);
    const r = await keyring.rotate();
    const second = await f.sealer({ blockMaxEntries: 3, keyring });
    assert.is(second.keyId, r.keyId);
    await second.waitSealed(await f.append(t, 4));
    await second.checkpoint();
    await second.close();
    const v = await verifyLedger({ streams: await doorOf(f.nc), tenants: [t] });
    assert.ok(v.ok, JSON.stringify(v.tenants[0]!.break));
    assert.equal(v.tenants[0]!.keyIds, [oldKey, r.keyId]);
    assert.equal(
      v.keys.map((k) => [k.keyId, k.prevKeyId, k.trusted]),
      [
        [oldKey, null, true],
        [r.keyId, oldKey, true],
      ],
    );
    const out = join(f.dir, 'export');
    await exportLedger({ streams: await doorOf(f.nc), tenant: t, out });
    const s = await runScript(await docScript(f.dir), [out]);
    assert.is(s.code, 0, s.out);
    assert.match(s.out, `keys: ${oldKey} ${r.keyId}`);
  } finally {
    await f.close();
  }
});

test('truncate the ledger and re-seal from a point with the real key: only a saved checkpoint exposes it', async () => {
  const f = await ledgerFixture();
  try {
    const t = freshTenant();
    const checkpointFile = join(f.dir, 'offhost-checkpoint.json');
    const honest = await f.sealer({ blockMaxEntries: 3, checkpointFile });
    const seqs: number[] = [];
    for (let i = 0; i < 6; i++) seqs.push(await f.append(t, 1));
    await honest.waitSealed(seqs[5]!);
    await honest.checkpoint();
    await honest.close();
    const saved = await readCheckpointFile(checkpointFile);
    assert.equal(
      saved.heads.map((h) => [h.tenant, h.height]),
      [[t, 6]],
    );

    // The intruder owns the box: edits record 2, throws the ledger away and re-seals everything.
    const jsm = await jetstreamManager(f.nc);
    const m = (await jsm.streams.getMessage(EVENTS_STREAM, { seq: seqs[1]! }))!;
    await jsm.streams.deleteMessage(EVENTS_STREAM, seqs[1]!);
    const h = natsHeaders();
    h.set('Stk-Version', m.header.get('Stk-Version'));
    await jetstream(f.nc).publish(m.subject, new TextDecoder().decode(m.data).replace('"i":0', '"i":1000'), { headers: h });
    await jsm.streams.delete(LEDGER_STREAM);
    await jsm.consumers.delete(EVENTS_STREAM, 'stk-sealer');
    const resealer = await f.sealer({ blockMaxEntries: 3 });
    await resealer.waitSealed(await f.append(t, 1));
    await resealer.close();

    const alone = await verifyLedger({ streams: await doorOf(f.nc), tenants: [t] });
    assert.ok(alone.ok, 'a consistent rewrite verifies on its own');
    const v = await verifyLedger({ streams: await doorOf(f.nc), tenants: [t], checkpoint: saved });
    assert.is(v.ok, false);
    assert.is(v.checkpoint?.ok, true);
    const b = v.tenants[0]!.break!;
    assert.is(b.kind, 'checkpoint_fork', JSON.stringify(b));
    assert.is(b.height, 6);
    assert.match(b.message, 'no longer extends the saved checkpoint');
  } finally {
    await f.close();
  }
});

test('a LEDGER restored from an altered copy (entries changed under valid signatures): chain_broken', async () => {
  const f = await ledgerFixture();
  try {
    const t = freshTenant();
    const sealer = await f.sealer({ blockMaxEntries: 3 });
    await sealer.waitSealed(await f.append(t, 6));
    await sealer.close();
    const jsm = await jetstreamManager(f.nc);
    const kept: Array<{ subject: string; data: Uint8Array }> = [];
    for (let seq = 1, last = (await jsm.streams.info(LEDGER_STREAM)).state.last_seq; seq <= last; seq++) {
      const m = await jsm.streams.getMessage(LEDGER_STREAM, { seq });
      if (m) kept.push({ subject: m.subject, data: m.data });
    }
    // The intruder recreates the stream and stores the blocks back, block 2 with its entries swapped.
    const info = await jsm.streams.info(LEDGER_STREAM);
    await jsm.streams.delete(LEDGER_STREAM);
    await jsm.streams.add(info.config);
    const js = jetstream(f.nc);
    for (const k of kept) {
      let data = k.data;
      if (k.subject === ledgerSubject(t)) {
        const b = parseBlock(k.data, {});
        if (b.index === 2) data = new TextEncoder().encode(JSON.stringify({ ...b, entries: [b.entries[1], b.entries[0], b.entries[2]] }));
      }
      await js.publish(k.subject, data);
    }
    const v = await verifyLedger({ streams: await doorOf(f.nc), tenants: [t] });
    const b = v.tenants[0]!.break!;
    assert.is(b.kind, 'chain_broken', JSON.stringify(b));
    assert.is(b.block, 2);
    assert.is(b.height, 4);
    assert.match(b.message, 'do not hash to the head it signs');
  } finally {
    await f.close();
  }
});

test.run();
