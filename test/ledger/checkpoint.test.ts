import { doorOf } from '../helpers/nats.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { parseTenantCheckpoint, readCheckpointFile, tenantVkey } from '../../src/ledger/checkpoint.ts';
import { LEDGER_STREAM, checkpointSubject } from '../../src/ledger/format.ts';
import { Keyring } from '../../src/ledger/keys.ts';
import { ledgerStatus } from '../../src/ledger/status.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { openCheckpoint, parseVerifierKey, ed25519NoteVerifier } from '../../src/transparency/mod.ts';
import { rejects } from '../helpers/assert.ts';
import { freshTenant, ledgerFixture } from './fixture.ts';

const test = suite('ledger checkpoints: a C2SP note per tenant, in LEDGER and a folder, covering every chain');

test('each tenant gets its own checkpoint note; verify and GET …/ledger find it whichever sealer wrote it', async () => {
  const f = await ledgerFixture();
  try {
    const [a, b] = [freshTenant('cpa'), freshTenant('cpb')];
    const dir = join(f.dir, 'checkpoints');
    // Two sealers, one tenant each, as two partitions would be: one folder, no file of one overwritten by the other.
    const sa = await f.sealer({ consumerName: 'cp-a', owns: (t) => t === a, checkpointDir: dir });
    const sb = await f.sealer({ consumerName: 'cp-b', owns: (t) => t === b, checkpointDir: dir });
    await sa.waitSealed(await f.append(a, 7));
    await sb.waitSealed(await f.append(b, 3));
    const [ca] = await sa.checkpoint();
    const [cb] = await sb.checkpoint();
    assert.equal([ca!.tenant, ca!.size, cb!.tenant, cb!.size], [a, 7, b, 3]);
    assert.equal((await readdir(dir)).sort(), [`${a}.checkpoint`, `${b}.checkpoint`].sort());

    // The note is a C2SP checkpoint signed with the ledger key under the tenant's origin.
    const keyring = await Keyring.open(f.keyDir);
    const origin = `stockade/${keyring.records[0]!.keyId}/tenant/${a}`;
    const vkey = parseVerifierKey(tenantVkey(keyring.publicKey(keyring.keyId)!, origin));
    if (!vkey.ok) throw new Error(vkey.reason);
    const opened = openCheckpoint(await readFile(join(dir, `${a}.checkpoint`), 'utf8'), [ed25519NoteVerifier(vkey.key)]);
    if (!opened.ok) throw new Error(opened.detail);
    assert.equal([opened.checkpoint.origin, opened.checkpoint.size], [origin, 7]);

    // The same note in LEDGER, on the tenant's own subject.
    const stored = await (await doorOf(f.nc)).last(LEDGER_STREAM, checkpointSubject(b));
    assert.is(parseTenantCheckpoint(new TextDecoder().decode(stored!.data))?.size, 3);
    const status = await ledgerStatus(b, { streams: await doorOf(f.nc) });
    assert.equal([status.lastCheckpoint?.height, status.lastCheckpoint?.rootHash], [3, status.rootHash]);

    const v = await verifyLedger({ streams: await doorOf(f.nc), tenants: [a, b], checkpoints: [await readCheckpointFile(join(dir, `${a}.checkpoint`))] });
    assert.ok(v.ok, JSON.stringify(v));
    assert.equal(
      v.tenants.map((t) => t.checkpoint?.size),
      [7, 3],
    );
    assert.equal(v.checkpoints[0]!.ok, true);

    // Nothing new: no new checkpoint. More entries: a larger one, never a smaller.
    assert.equal(await sa.checkpoint(), []);
    await sa.waitSealed(await f.append(a, 2));
    assert.is((await sa.checkpoint())[0]!.size, 9);
  } finally {
    await f.close();
  }
});

test('verify says what is wrong with a checkpoint: tampered, of another tenant, replayed older, beyond the chain', async () => {
  const f = await ledgerFixture();
  try {
    const t = freshTenant();
    const sealer = await f.sealer();
    await sealer.waitSealed(await f.append(t, 4));
    const [first] = await sealer.checkpoint();
    await sealer.waitSealed(await f.append(t, 4));
    const [second] = await sealer.checkpoint();
    const streams = await doorOf(f.nc);

    // A note whose size was changed: its signature no longer verifies.
    const tampered = parseTenantCheckpoint(second!.note.replace(`\n${second!.size}\n`, `\n${second!.size - 1}\n`))!;
    const bad = await verifyLedger({ streams, tenants: [t], checkpoints: [tampered] });
    assert.is(bad.ok, false);
    assert.match(bad.checkpoints[0]!.message!, 'its signature does not verify');

    // A checkpoint of another tenant than the one verified is said to be so.
    const other = await verifyLedger({ streams, tenants: [freshTenant('other')], checkpoints: [second!] });
    assert.is(other.ok, false);
    assert.match(other.checkpoints[0]!.message!, `covers tenant ${t}, which was not verified here`);

    // An older checkpoint replayed onto the tenant's subject: refused as a rollback.
    await jetstream(f.nc).publish(checkpointSubject(t), first!.note);
    const replayed = await verifyLedger({ streams, tenants: [t] });
    assert.is(replayed.tenants[0]!.break?.kind, 'checkpoint_rollback', JSON.stringify(replayed.tenants[0]!.break));
    assert.match(replayed.tenants[0]!.break!.message, 'an older checkpoint was replayed');
    // The newer one, saved by an auditor, still holds: the chain extends it.
    const saved = await verifyLedger({ streams, tenants: [t], checkpoints: [second!] });
    assert.is(saved.checkpoints[0]!.ok, true, JSON.stringify(saved.checkpoints));

    await rejects(readCheckpointFile(join(f.dir, 'missing.checkpoint')), 'STK_ERR_LEDGER_CHECKPOINT');
  } finally {
    await f.close();
  }
});

test.run();
