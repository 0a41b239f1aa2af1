import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { leafHash, merkleRoot } from '../../src/merkle/mod.ts';
import {
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
  cosignCheckpoint,
  cosignatureMessage,
  cosignatureTimestamp,
  decodeBase64,
  ed25519NoteSigner,
  ed25519NoteVerifier,
  formatCheckpoint,
  formatSignatureLine,
  formatVerifierKey,
  generateSignerKey,
  openNote,
  parseVerifierKey,
  signCheckpoint,
  signerKeyFromSeed,
  verifierKeyOf,
  verifyCosignedCheckpoint,
  type VerifierKey,
} from '../../src/transparency/mod.ts';
import { throws } from '../helpers/assert.ts';
import { REAL_CHECKPOINT, REAL_LOG_VKEY, REAL_WITNESS_VKEY } from './vectors.ts';

const test = suite('transparency: cosignatures');

const vkey = (text: string): VerifierKey => {
  const p = parseVerifierKey(text);
  if (!p.ok) throw new Error(`${text}: ${p.reason}`);
  return p.key;
};
const reason = (r: { ok: boolean; reason?: string }): string => (r.ok ? 'ok' : r.reason!);
const rawOf = (line: string): Uint8Array => decodeBase64(line.slice(line.lastIndexOf(' ') + 1, -1))!;

const log = generateSignerKey('stockade.example/tenant/acme', SIG_TYPE_ED25519);
const w1 = generateSignerKey('witness.example/w1', SIG_TYPE_COSIGNATURE_V1);
const w2 = generateSignerKey('witness.example/w2', SIG_TYPE_COSIGNATURE_V1);
const w3 = generateSignerKey('witness.example/w3', SIG_TYPE_COSIGNATURE_V1);
const witnesses = [w1, w2, w3].map(verifierKeyOf);
const root = merkleRoot([leafHash(Buffer.from('x'))]);
const cp = { origin: log.name, size: 1, rootHash: root, extensions: [] };
const text = formatCheckpoint(cp);
const note = signCheckpoint(cp, [ed25519NoteSigner(log)]);
const policy = (quorum: number) => ({ logKeys: [verifierKeyOf(log)], witnessKeys: witnesses, quorum });

test('a real checkpoint of a public log verifies with its log key and the cosignature of a public witness', () => {
  // Keys as vkey text, as a configuration holds them.
  const r = verifyCosignedCheckpoint(REAL_CHECKPOINT, { logKeys: [REAL_LOG_VKEY], witnessKeys: [REAL_WITNESS_VKEY], quorum: 1 });
  assert.ok(r.ok, JSON.stringify(r));
  if (!r.ok) return;
  assert.is(r.checkpoint.size, 1432088532);
  assert.equal(
    r.cosignatures.map((c) => [c.name, c.keyId.toString(16), c.timestamp]),
    [['remora.n621.de', 'da77ade7', 1779573024]],
  );
  // The same bytes with the size changed: the witness's signature no longer holds.
  const bent = REAL_CHECKPOINT.replace('\n1432088532\n', '\n1432088533\n');
  assert.is(reason(verifyCosignedCheckpoint(bent, { logKeys: [vkey(REAL_LOG_VKEY)], witnessKeys: [vkey(REAL_WITNESS_VKEY)], quorum: 1 })), 'invalid-signature');
});

test('the signed message is `cosignature/v1`, `time <t>`, then the checkpoint text; the line carries key ID, big-endian time, signature', () => {
  assert.is(new TextDecoder().decode(cosignatureMessage(text, 1679315147)), `cosignature/v1\ntime 1679315147\n${text}`);
  const line = cosignCheckpoint(w1, text, 1679315147);
  assert.ok(line.startsWith('— witness.example/w1 '));
  const raw = rawOf(line);
  assert.is(raw.length, 4 + 8 + 64);
  assert.is(Buffer.from(raw).readUInt32BE(0), w1.keyId);
  assert.is(Buffer.from(raw).readBigUInt64BE(4), 1679315147n);
  assert.is(cosignatureTimestamp(raw.subarray(4)), 1679315147);
  // The key ID of a cosigning key is over type 0x04: the same seed as a note key has another ID.
  const asNoteKey = signerKeyFromSeed(w1.name, SIG_TYPE_ED25519, w1.seed);
  assert.is.not(asNoteKey.keyId, w1.keyId);
  const wv = formatVerifierKey(verifierKeyOf(w1));
  assert.match(wv, /^witness\.example\/w1\+[0-9a-f]{8}\+/);
  assert.is(decodeBase64(wv.split('+').slice(2).join('+'))![0], 0x04);
  assert.is(vkey(wv).keyId, w1.keyId);
});

test('quorum: 2 of 3 distinct witnesses, each counted once', () => {
  const one = `${note}${cosignCheckpoint(w1, text, 100)}`;
  assert.is(reason(verifyCosignedCheckpoint(one, policy(1))), 'ok');
  assert.is(reason(verifyCosignedCheckpoint(one, policy(2))), 'quorum');
  const twiceW1 = `${one}${cosignCheckpoint(w1, text, 101)}`;
  assert.is(reason(verifyCosignedCheckpoint(twiceW1, policy(2))), 'quorum');
  const two = `${one}${cosignCheckpoint(w2, text, 102)}`;
  const r = verifyCosignedCheckpoint(two, policy(2));
  assert.ok(r.ok);
  if (r.ok)
    assert.equal(
      r.cosignatures.map((c) => [c.name, c.timestamp]),
      [
        ['witness.example/w1', 100],
        ['witness.example/w2', 102],
      ],
    );
  const unknown = generateSignerKey('witness.example/stranger', SIG_TYPE_COSIGNATURE_V1);
  assert.is(reason(verifyCosignedCheckpoint(`${one}${cosignCheckpoint(unknown, text, 1)}`, policy(2))), 'quorum');
});

test('one key under two witness names counts once (a v1 cosignature does not sign the name)', () => {
  const alias = signerKeyFromSeed('witness.example/alias', SIG_TYPE_COSIGNATURE_V1, w1.seed);
  const aliasKeys = [verifierKeyOf(w1), verifierKeyOf(alias), verifierKeyOf(w2)];
  const line = cosignCheckpoint(w1, text, 100);
  // The same signature bytes relabelled with the alias's name and ID verify under the alias…
  const relabelled = formatSignatureLine(alias.name, alias.keyId, rawOf(line).subarray(4));
  const both = `${note}${line}${relabelled}`;
  assert.ok(openNote(both, [ed25519NoteVerifier(verifierKeyOf(log))]).ok);
  // …but they are one witness.
  const r = verifyCosignedCheckpoint(both, { logKeys: [verifierKeyOf(log)], witnessKeys: aliasKeys, quorum: 2 });
  assert.is(reason(r), 'quorum');
});

test('a cosignature with a changed timestamp, over another checkpoint, or by another key refuses the note', () => {
  const line = cosignCheckpoint(w1, text, 100);
  const raw = rawOf(line);
  const later = Uint8Array.from(raw);
  later[11]! += 1; // timestamp 101, signature made for 100
  assert.is(reason(verifyCosignedCheckpoint(`${note}${formatSignatureLine(w1.name, w1.keyId, later.subarray(4))}`, policy(1))), 'invalid-signature');
  const huge = Uint8Array.from(raw);
  huge.set([0x80, 0, 0, 0, 0, 0, 0, 0], 4); // 2^63: above the largest timestamp allowed
  assert.is(reason(verifyCosignedCheckpoint(`${note}${formatSignatureLine(w1.name, w1.keyId, huge.subarray(4))}`, policy(1))), 'invalid-signature');
  const otherText = formatCheckpoint({ ...cp, size: 2, rootHash: merkleRoot([leafHash(Buffer.from('x')), leafHash(Buffer.from('y'))]) });
  assert.is(reason(verifyCosignedCheckpoint(`${note}${cosignCheckpoint(w1, otherText, 100)}`, policy(1))), 'invalid-signature');
  const impostor = generateSignerKey(w1.name, SIG_TYPE_COSIGNATURE_V1);
  const forged = formatSignatureLine(w1.name, w1.keyId, rawOf(cosignCheckpoint(impostor, text, 100)).subarray(4));
  assert.is(reason(verifyCosignedCheckpoint(`${note}${forged}`, policy(1))), 'invalid-signature');
  // A plain note signature by the witness key is not a cosignature (different key ID): ignored.
  const plain = signerKeyFromSeed(w1.name, SIG_TYPE_ED25519, w1.seed);
  const plainLine = signCheckpoint(cp, [ed25519NoteSigner(plain)]).slice(text.length + 1);
  assert.is(reason(verifyCosignedCheckpoint(`${note}${plainLine}`, policy(1))), 'quorum');
});

test('the log signature is required; future timestamps can be left uncounted; a policy that cannot be met throws', () => {
  const onlyWitnesses = `${text}\n${cosignCheckpoint(w1, text, 100)}${cosignCheckpoint(w2, text, 100)}`;
  assert.is(reason(verifyCosignedCheckpoint(onlyWitnesses, policy(1))), 'log-signature');
  const future = `${note}${cosignCheckpoint(w1, text, 2_000_000_000)}${cosignCheckpoint(w2, text, 1_000)}`;
  assert.is(reason(verifyCosignedCheckpoint(future, { ...policy(2), notAfterSeconds: 1_700_000_000 })), 'quorum');
  assert.is(reason(verifyCosignedCheckpoint(future, { ...policy(1), notAfterSeconds: 1_700_000_000 })), 'ok');
  throws(() => verifyCosignedCheckpoint(note, policy(0)), 'STK_ERR_NOTE_INVALID');
  throws(() => verifyCosignedCheckpoint(note, { ...policy(1), witnessKeys: ['not a vkey'] }), 'STK_ERR_NOTE_INVALID');
  throws(() => verifyCosignedCheckpoint(note, policy(4)), 'STK_ERR_NOTE_INVALID');
  throws(() => verifyCosignedCheckpoint(note, { logKeys: [verifierKeyOf(w1)], witnessKeys: witnesses, quorum: 1 }), 'STK_ERR_NOTE_INVALID');
  assert.is(reason(verifyCosignedCheckpoint('garbage', policy(1))), 'malformed');
  assert.is(reason(verifyCosignedCheckpoint(new Uint8Array([0xff, 0x0a, 0x0a]), policy(1))), 'malformed');
});

test('cosigning refuses a zero or fractional timestamp, a note key, and a text that is no checkpoint', () => {
  throws(() => cosignCheckpoint(w1, text, 0), 'STK_ERR_NOTE_INVALID');
  throws(() => cosignCheckpoint(w1, text, 1.5), 'STK_ERR_NOTE_INVALID');
  throws(() => cosignCheckpoint(log, text, 1), 'STK_ERR_NOTE_INVALID');
  throws(() => cosignCheckpoint(w1, 'hello\n', 1), 'STK_ERR_NOTE_INVALID');
});

test.run();
