import { doorOf } from '../helpers/nats.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createPrivateKey } from 'node:crypto';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { EVENTS_STREAM } from '../../src/log/mod.ts';
import { readCheckpointFile } from '../../src/ledger/checkpoint.ts';
import { exportLedger } from '../../src/ledger/export.ts';
import { LEDGER_STREAM, blockSignedText, entryHash, entryLeaf, eventHash, ledgerSubject, parseBlock, type Block } from '../../src/ledger/format.ts';
import { Frontier } from '../../src/ledger/tree.ts';
import { rejects } from '../helpers/assert.ts';
import { Keyring, signText } from '../../src/ledger/keys.ts';
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

test('a rotated-out key signs nothing more: its block after the rotation is retired_key, and the script refuses it', async () => {
  const f = await ledgerFixture();
  try {
    const t = freshTenant();
    const first = await f.sealer({ blockMaxEntries: 3 });
    const oldKeyId = first.keyId;
    await first.waitSealed(await f.append(t, 3));
    await first.close();
    const keyring = await Keyring.open(f.keyDir);
    const r = await keyring.rotate();
    const second = await f.sealer({ blockMaxEntries: 3, keyring });
    await second.waitSealed(await f.append(t, 2));
    await second.close();

    // A thief of the retired key's file appends a record and seals it with that key, dated before the rotation.
    const stolen = createPrivateKey(await readFile(join(f.keyDir, `${oldKeyId}.key`), 'utf8'));
    const seq = await f.append(t, 1);
    const jsm = await jetstreamManager(f.nc);
    const rec = (await jsm.streams.getMessage(EVENTS_STREAM, { seq }))!;
    const prev = parseBlock((await jsm.streams.getMessage(LEDGER_STREAM, { last_by_subj: ledgerSubject(t) }))!.data, {});
    const ev = eventHash(rec.subject, rec.header.get('Stk-Version'), rec.data);
    const height = prev.lastHeight + 1;
    const frontier = Frontier.fromEdge(prev.lastHeight, prev.edge!)!;
    frontier.append(entryLeaf(t, height, prev.head, ev));
    const unsigned = {
      format: 2,
      tenant: t,
      index: prev.index + 1,
      firstHeight: height,
      lastHeight: height,
      prevHead: prev.head,
      head: entryHash(t, height, prev.head, ev),
      root: frontier.root(),
      lastSeq: seq,
      keyId: oldKeyId,
      sealedAt: new Date(Date.parse(r.at) - 1000).toISOString(),
    };
    const forged: Block = {
      ...unsigned,
      entries: [[seq, rec.header.get('Nats-Msg-Id'), ev]],
      edge: frontier.edge(),
      sig: signText(stolen, blockSignedText(unsigned)),
    };
    await jetstream(f.nc).publish(ledgerSubject(t), JSON.stringify(forged));

    const v = await verifyLedger({ streams: await doorOf(f.nc), tenants: [t] });
    const b = v.tenants[0]!.break!;
    assert.is(b.kind, 'retired_key', JSON.stringify(b));
    assert.match(b.message, `key ${oldKeyId} was retired at LEDGER seq`);
    assert.equal(
      v.keys.map((k) => k.retiredAt),
      [r.at, null],
    );

    // In an export the forged block carries no position: its time does not fit its key's window
    // (backdated, it sits after a block of the new key).
    const out = join(f.dir, 'export');
    await rejects(exportLedger({ streams: await doorOf(f.nc), tenant: t, out }), 'STK_ERR_LEDGER_BROKEN');
    const s = await runScript(await docScript(f.dir), [out]);
    assert.is(s.code, 1, s.out);
    assert.match(s.out, `FAIL: block ${forged.index}: it is sealed at ${forged.sealedAt}, before the block before it`);
    // Dated after the rotation, it is outside the retired key's window.
    const late = join(f.dir, 'export-late');
    await cp(out, late, { recursive: true });
    const msg = join(late, 'blocks', `${String(forged.index).padStart(10, '0')}.msg`);
    const text = (await readFile(msg, 'utf8')).replace(forged.sealedAt, new Date().toISOString());
    await writeFile(msg, text);
    await writeFile(msg.replace(/\.msg$/, '.sig'), Buffer.from(signText(stolen, text), 'base64'));
    const s2 = await runScript(await docScript(join(f.dir)), [late]);
    assert.is(s2.code, 1, s2.out);
    assert.match(s2.out, `signed by key ${oldKeyId} at`);
    assert.match(s2.out, `outside its window (`);
  } finally {
    await f.close();
  }
});

test('truncate the ledger and re-seal from a point with the real key: only a saved checkpoint exposes it', async () => {
  const f = await ledgerFixture();
  try {
    const t = freshTenant();
    const checkpointDir = join(f.dir, 'offhost');
    const honest = await f.sealer({ blockMaxEntries: 3, checkpointDir });
    const seqs: number[] = [];
    for (let i = 0; i < 6; i++) seqs.push(await f.append(t, 1));
    await honest.waitSealed(seqs[5]!);
    await honest.checkpoint();
    const keyId = honest.keyId;
    await honest.close();
    const saved = await readCheckpointFile(join(checkpointDir, `${t}.checkpoint`));
    assert.equal([saved.tenant, saved.size], [t, 6]);

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
    const v = await verifyLedger({ streams: await doorOf(f.nc), tenants: [t], checkpoints: [saved] });
    assert.is(v.ok, false);
    const c = v.checkpoints[0]!;
    // The rewrite recorded the same key again, so the saved checkpoint's signature still verifies:
    // what is wrong is the chain, and verify says so rather than "unknown key".
    assert.is(c.signedBy, keyId);
    assert.match(c.message!, 'the chain no longer extends it: at size 6 the tree root is');
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
