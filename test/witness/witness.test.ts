import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { leafHash } from '../../src/merkle/mod.ts';
import {
  SIG_TYPE_ED25519,
  ed25519NoteSigner,
  encodeBase64,
  generateSignerKey,
  parseVerifierKey,
  signNote,
  verifierKeyOf,
  verifyCosignedCheckpoint,
  type VerifierKey,
} from '../../src/transparency/mod.ts';
import { addCheckpoint, formatAddCheckpoint, originHash } from '../../src/witness/mod.ts';
import { TestLog, post, startWitness, type WitnessFixture } from './fixture.ts';

const test = suite('witness: tlog-witness over HTTP');

const vk = (text: string): VerifierKey => {
  const p = parseVerifierKey(text);
  if (!p.ok) throw new Error(p.reason);
  return p.key;
};

/** Verifies `note` + the witness's lines with the log key and the witness key, quorum 1; returns the cosigned size. */
function cosignedSize(f: WitnessFixture, log: TestLog, note: string, lines: string[]): number {
  const r = verifyCosignedCheckpoint(note + lines.join(''), { logKeys: [verifierKeyOf(log.key)], witnessKeys: [vk(f.witness.vkey)], quorum: 1 });
  if (!r.ok) assert.unreachable(`${r.reason}: ${r.detail}`);
  return r.ok ? r.checkpoint.size : -1;
}

test('accepts a first checkpoint and a consistent successor; returns cosignatures that verify; serves the latest', async () => {
  const log = new TestLog('stockade.test/tenant/acme');
  const f = await startWitness([log], { now: () => 1_700_000_000_500 });
  try {
    const first = log.checkpoint(5);
    const r1 = await addCheckpoint(f.url, 0, [], first);
    assert.ok(r1.ok, JSON.stringify(r1));
    if (!r1.ok) return;
    assert.is(r1.cosignatures.length, 1);
    assert.match(r1.cosignatures[0]!, /^— witness\.test\/w1 [A-Za-z0-9+/]+=*\n$/);
    assert.is(cosignedSize(f, log, first, r1.cosignatures), 5);
    const ts = verifyCosignedCheckpoint(first + r1.cosignatures.join(''), { logKeys: [verifierKeyOf(log.key)], witnessKeys: [vk(f.witness.vkey)], quorum: 1 });
    assert.equal(ts.ok ? ts.cosignatures[0]!.timestamp : null, 1_700_000_000);

    const next = log.checkpoint(9);
    const r2 = await addCheckpoint(f.url, 5, log.tree.consistencyProof(5, 9), next);
    assert.ok(r2.ok, JSON.stringify(r2));
    if (r2.ok) assert.is(cosignedSize(f, log, next, r2.cosignatures), 9);
    // The same tree head again: cosigned again, nothing moves.
    const r3 = await addCheckpoint(f.url, 9, [], next);
    assert.ok(r3.ok, JSON.stringify(r3));

    const res = await fetch(`${f.url}/${originHash(log.origin)}/checkpoint`);
    assert.is(res.status, 200);
    const served = await res.text();
    assert.ok(served.startsWith(`${log.origin}\n9\n`));
    const v = verifyCosignedCheckpoint(served, { logKeys: [verifierKeyOf(log.key)], witnessKeys: [vk(f.witness.vkey)], quorum: 1 });
    assert.ok(v.ok);
    assert.is((await fetch(`${f.url}/${originHash('stockade.test/other')}/checkpoint`)).status, 404);
  } finally {
    await f.close();
  }
});

test('refuses a rollback: 409 with the cosigned size as text/x.tlog.size, or 400 when old size is above the checkpoint', async () => {
  const log = new TestLog('stockade.test/tenant/rollback');
  const f = await startWitness([log]);
  try {
    assert.ok((await addCheckpoint(f.url, 0, [], log.checkpoint(9))).ok);
    const raw = await post(f.url, formatAddCheckpoint(5, [], log.checkpoint(5)));
    assert.equal(raw, { status: 409, type: 'text/x.tlog.size', text: '9\n' });
    const viaClient = await addCheckpoint(f.url, 0, [], log.checkpoint(5));
    assert.equal(viaClient.ok ? null : [viaClient.status, viaClient.code, viaClient.currentSize], [409, 'STK_ERR_WITNESS_CONFLICT', 9]);
    const above = await post(f.url, formatAddCheckpoint(9, [], log.checkpoint(5)));
    assert.is(above.status, 400);
    assert.match(above.text, /^STK_ERR_WITNESS_MALFORMED: /);
  } finally {
    await f.close();
  }
});

test('refuses forks: same size with another root, a larger size whose proof does not verify, a proof from size 0', async () => {
  const log = new TestLog('stockade.test/tenant/fork');
  const fork = new TestLog('stockade.test/tenant/fork', 'forked');
  // The forked tree is signed with the real log key: the log itself misbehaving.
  const forkNote = (size: number): string => fork.checkpoint(size, log.key);
  const f = await startWitness([log]);
  try {
    assert.ok((await addCheckpoint(f.url, 0, [], log.checkpoint(9))).ok);
    const sameSize = await addCheckpoint(f.url, 9, [], forkNote(9));
    assert.equal(sameSize.ok ? null : [sameSize.status, sameSize.code], [422, 'STK_ERR_WITNESS_INCONSISTENT']);
    // The fork's own proof from its own size-9 tree: consistent in itself, not with what was cosigned.
    const ownProof = await addCheckpoint(f.url, 9, fork.grow(14).tree.consistencyProof(9, 14), forkNote(14));
    assert.equal(ownProof.ok ? null : [ownProof.status, ownProof.code], [422, 'STK_ERR_WITNESS_INCONSISTENT']);
    // The honest proof with the fork's root.
    const honestProof = await addCheckpoint(f.url, 9, log.grow(14).tree.consistencyProof(9, 14), forkNote(14));
    assert.equal(honestProof.ok ? null : honestProof.status, 422);
    // A truncated honest proof for the honest checkpoint.
    const truncated = await addCheckpoint(f.url, 9, log.tree.consistencyProof(9, 14).slice(1), log.checkpoint(14));
    assert.equal(truncated.ok ? null : truncated.status, 422);
    assert.ok(
      f.logLines.some((l) => l.code === 'STK_ERR_WITNESS_INCONSISTENT' && l.level === 40),
      'a fork attempt is logged as a warning',
    );
    // Nothing above moved the witness: the honest successor still extends 9.
    const good = await addCheckpoint(f.url, 9, log.tree.consistencyProof(9, 14), log.checkpoint(14));
    assert.ok(good.ok, JSON.stringify(good));

    const other = new TestLog('stockade.test/tenant/fresh');
    const g = await startWitness([other]);
    try {
      const withProof = await addCheckpoint(g.url, 0, [leafHash(Buffer.from('x'))], other.checkpoint(3));
      assert.equal(withProof.ok ? null : withProof.status, 422);
      // Size 0 must carry the empty root: a note made by hand, since formatCheckpoint refuses it.
      const text = `${other.origin}\n0\n${encodeBase64(leafHash(Buffer.from('x')))}\n`;
      const zero = await post(g.url, formatAddCheckpoint(0, [], signNote(text, [ed25519NoteSigner(other.key)])));
      assert.is(zero.status, 422);
      assert.ok((await addCheckpoint(g.url, 0, [], other.checkpoint(0))).ok, 'size 0 with the empty root is cosigned');
    } finally {
      await g.close();
    }
  } finally {
    await f.close();
  }
});

test('refuses an unknown origin (404), a checkpoint not signed by the log key (403), a bad signature of the log key (403)', async () => {
  const log = new TestLog('stockade.test/tenant/known');
  const stranger = new TestLog('stockade.test/tenant/stranger');
  const f = await startWitness([log]);
  try {
    const unknown = await addCheckpoint(f.url, 0, [], stranger.checkpoint(3));
    assert.equal(unknown.ok ? null : [unknown.status, unknown.code], [404, 'STK_ERR_WITNESS_UNKNOWN_LOG']);
    const impostor = generateSignerKey(log.origin, SIG_TYPE_ED25519);
    const byImpostor = await addCheckpoint(f.url, 0, [], log.checkpoint(3, impostor));
    assert.equal(byImpostor.ok ? null : [byImpostor.status, byImpostor.code], [403, 'STK_ERR_WITNESS_SIGNATURE']);
    const tampered = log.checkpoint(3).replace(/\n3\n/, '\n4\n');
    const bad = await addCheckpoint(f.url, 0, [], tampered);
    assert.equal(bad.ok ? null : [bad.status, bad.code], [403, 'STK_ERR_WITNESS_SIGNATURE']);
    // None of these left a record behind.
    assert.is((await fetch(`${f.url}/${originHash(log.origin)}/checkpoint`)).status, 404);
  } finally {
    await f.close();
  }
});

test('refuses malformed requests with 400 and oversized bodies with 413, at the edge', async () => {
  const log = new TestLog('stockade.test/tenant/edge');
  const f = await startWitness([log], { maxBodyBytes: 4096 });
  try {
    const note = log.checkpoint(3);
    const h = encodeBase64(leafHash(Buffer.from('x')));
    const cases: Array<[string, string | Uint8Array]> = [
      ['empty body', ''],
      ['no old line', `\n${note}`],
      ['old with a leading zero', `old 00\n\n${note}`],
      ['old negative', `old -1\n\n${note}`],
      ['old with two spaces', `old  0\n\n${note}`],
      ['OLD in capitals', `OLD 0\n\n${note}`],
      ['CRLF after old', `old 0\r\n\r\n${note}`],
      ['proof line not base64', `old 0\nnot base64!\n\n${note}`],
      ['proof line of 31 bytes', `old 0\n${encodeBase64(new Uint8Array(31))}\n\n${note}`],
      ['64 proof lines', `old 0\n${`${h}\n`.repeat(64)}\n${note}`],
      ['no blank line', `old 0\n${h}\n`],
      ['nothing after the blank line', 'old 0\n\n'],
      ['note without signatures', `old 0\n\n${log.origin}\n3\n${h}\n`],
      ['a note that is not a checkpoint', `old 0\n\n${signNote('hello\n', [ed25519NoteSigner(log.key)])}`],
      ['non-ASCII in the old line', Buffer.concat([Buffer.from('old 0\u00a0\n\n'), Buffer.from(note)])],
      ['invalid UTF-8 in the note', Buffer.concat([Buffer.from('old 0\n\n'), Buffer.from([0xff]), Buffer.from(note)])],
    ];
    for (const [name, body] of cases) {
      const r = await post(f.url, body);
      assert.is(r.status, 400, `${name}: ${r.status} ${r.text}`);
      assert.match(r.text, /^STK_ERR_WITNESS_MALFORMED: /, name);
    }
    const big = await post(f.url, `old 0\n\n${'x'.repeat(5000)}`);
    assert.is(big.status, 413);
    // 63 proof lines is the limit, not a refusal by itself: it reaches the consistency check.
    const sixtyThree = await post(f.url, `old 0\n${`${h}\n`.repeat(63)}\n${note}`);
    assert.is(sixtyThree.status, 422);
    const json = await fetch(`${f.url}/add-checkpoint`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Uint8Array(formatAddCheckpoint(0, [], note)),
    });
    assert.is(json.status, 200, 'the body is read as the protocol text whatever its Content-Type');
  } finally {
    await f.close();
  }
});

test('two racing add-checkpoint requests from the same old size cannot both be cosigned', async () => {
  const log = new TestLog('stockade.test/tenant/race');
  const f = await startWitness([log]);
  try {
    assert.ok((await addCheckpoint(f.url, 0, [], log.checkpoint(9))).ok);
    log.grow(40);
    // Eight successors of 9, each consistent on its own, all sent at once over HTTP.
    const sizes = [10, 13, 16, 20, 24, 29, 33, 40];
    const results = await Promise.all(sizes.map((n) => addCheckpoint(f.url, 9, log.tree.consistencyProof(9, n), log.checkpoint(n))));
    const won = sizes.filter((_, i) => results[i]!.ok);
    assert.is(won.length, 1, `cosigned: ${won.join(', ')}`);
    for (const r of results) if (!r.ok) assert.equal([r.status, r.currentSize], [409, won[0]]);
    const served = await (await fetch(`${f.url}/${originHash(log.origin)}/checkpoint`)).text();
    assert.ok(served.startsWith(`${log.origin}\n${won[0]}\n`));
    // And straight at the witness, without HTTP in between: twenty at once, one winner.
    const again = await Promise.all(
      [41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60].map((n) => {
        log.grow(n);
        const body = formatAddCheckpoint(won[0]!, log.tree.consistencyProof(won[0]!, n), log.checkpoint(n));
        return f.witness.addCheckpoint(body);
      }),
    );
    assert.is(again.filter((r) => r.kind === 'cosigned').length, 1);
  } finally {
    await f.close();
  }
});

test('the record is written before the answer, with mode 0600; a second witness cannot open the same state folder', async () => {
  const log = new TestLog('stockade.test/tenant/durable');
  const f = await startWitness([log]);
  try {
    assert.ok((await addCheckpoint(f.url, 0, [], log.checkpoint(4))).ok);
    const file = join(f.stateDir, 'logs', `${originHash(log.origin)}.json`);
    assert.is((statSync(file).mode & 0o777).toString(8), '600');
    const rec = JSON.parse(readFileSync(file, 'utf8')) as { origin: string; size: number; rootHash: string };
    assert.equal([rec.origin, rec.size, rec.rootHash], [log.origin, 4, encodeBase64(log.tree.root(4))]);
    let locked: unknown = null;
    try {
      await startWitness([log], { stateDir: f.stateDir });
    } catch (err) {
      locked = err;
    }
    assert.is((locked as { code?: string })?.code, 'STK_ERR_DATA_LOCKED');
  } finally {
    await f.close();
  }
});

test('a clock that steps back never makes a cosignature older than the last one', async () => {
  const log = new TestLog('stockade.test/tenant/clock');
  let nowMs = 2_000_000_000_000;
  const f = await startWitness([log], { now: () => nowMs });
  try {
    const a = await addCheckpoint(f.url, 0, [], log.checkpoint(2));
    nowMs -= 3_600_000;
    const note = log.checkpoint(3);
    const b = await addCheckpoint(f.url, 2, log.tree.consistencyProof(2, 3), note);
    assert.ok(a.ok && b.ok);
    if (!b.ok) return;
    const v = verifyCosignedCheckpoint(note + b.cosignatures.join(''), { logKeys: [verifierKeyOf(log.key)], witnessKeys: [vk(f.witness.vkey)], quorum: 1 });
    assert.equal(v.ok ? v.cosignatures[0]!.timestamp : null, 2_000_000_000);
  } finally {
    await f.close();
  }
});

test.run();
