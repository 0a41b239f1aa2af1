import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  SIG_TYPE_ED25519,
  decodeBase64,
  ed25519NoteSigner,
  ed25519NoteVerifier,
  encodeBase64,
  formatSignatureLine,
  generateSignerKey,
  openNote,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  verifierKeyOf,
  type NoteVerifier,
  type VerifierKey,
} from '../../src/transparency/mod.ts';
import { throws } from '../helpers/assert.ts';
import { GO_NOTE, GO_SKEY, GO_TEXT, GO_VKEY, SPEC_NOTE, SPEC_VKEY } from './vectors.ts';

const test = suite('transparency: signed notes');

const vkey = (text: string): VerifierKey => {
  const p = parseVerifierKey(text);
  if (!p.ok) throw new Error(`${text}: ${p.reason}`);
  return p.key;
};
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const reason = (r: { ok: boolean; reason?: string }): string => (r.ok ? 'ok' : r.reason!);
const concat = (...parts: Array<Uint8Array | string>): Uint8Array => Buffer.concat(parts.map((p) => (typeof p === 'string' ? utf8(p) : p)));

const alice = generateSignerKey('example.com/alice', SIG_TYPE_ED25519);
const bob = generateSignerKey('example.com/bob', SIG_TYPE_ED25519);
const aliceV = ed25519NoteVerifier(verifierKeyOf(alice));
const bobV = ed25519NoteVerifier(verifierKeyOf(bob));
const TEXT = 'example.com/log\n42\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n';
const signed = signNote(TEXT, [ed25519NoteSigner(alice)]);
const aliceLine = signed.slice(TEXT.length + 1);

test('the signed-note spec example and the Go sumdb/note example verify; Go signing is reproduced byte for byte', () => {
  const spec = openNote(SPEC_NOTE, [ed25519NoteVerifier(vkey(SPEC_VKEY))]);
  assert.ok(spec.ok);
  if (spec.ok) assert.is(spec.note.text, 'This is an example message.\n');
  const go = openNote(utf8(GO_NOTE), [ed25519NoteVerifier(vkey(GO_VKEY))]);
  assert.ok(go.ok);
  const skey = parseSignerKey(GO_SKEY);
  assert.ok(skey.ok);
  if (skey.ok) assert.is(signNote(GO_TEXT, [ed25519NoteSigner(skey.key)]), GO_NOTE);
});

test('a signed note round-trips; signatures of unknown keys are ignored and kept', () => {
  const both = signNote(TEXT, [ed25519NoteSigner(alice), ed25519NoteSigner(bob)]);
  const r = openNote(both, [aliceV]);
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.is(r.note.text, TEXT);
  assert.equal(
    r.note.verified.map((s) => s.name),
    ['example.com/alice'],
  );
  assert.equal(
    r.note.unverified.map((s) => s.name),
    ['example.com/bob'],
  );
  // Existing signature lines can be carried into a note signed again.
  const again = signNote(TEXT, [ed25519NoteSigner(bob)], r.note.verified);
  assert.is(again, both);
});

test('every malformed note is refused as malformed, before any key is consulted', () => {
  const sig = aliceLine.slice(0, -1); // without its newline
  const b64 = sig.slice(sig.lastIndexOf(' ') + 1);
  const cases: Array<[string, Uint8Array | string]> = [
    ['empty', ''],
    ['no blank line', `${TEXT}${aliceLine}`],
    ['no signature lines', `${TEXT}\n`],
    ['last signature line without newline', `${TEXT}\n${sig}`],
    ['trailing data after the signatures', `${TEXT}\n${aliceLine}trailing`],
    ['a trailing line that is no signature', `${TEXT}\n${aliceLine}trailing\n`],
    ['hyphen instead of em dash', `${TEXT}\n- example.com/alice ${b64}\n`],
    ['em dash without space', `${TEXT}\n—example.com/alice ${b64}\n`],
    ['empty key name', `${TEXT}\n—  ${b64}\n`],
    ['key name with +', `${TEXT}\n— example.com+alice ${b64}\n`],
    ['key name with a no-break space', `${TEXT}\n— example.com\u00a0alice ${b64}\n`],
    ['key name with an ideographic space', `${TEXT}\n— example\u3000alice ${b64}\n`],
    ['no signature after the name', `${TEXT}\n— example.com/alice\n`],
    ['two spaces before the signature', `${TEXT}\n— example.com/alice  ${b64}\n`],
    ['a field after the signature', `${TEXT}\n${sig} extra\n`],
    ['base64 without padding', `${TEXT}\n— example.com/alice ${b64.replace(/=+$/, '')}\n`],
    ['base64url alphabet', `${TEXT}\n— example.com/alice ${b64.slice(0, 10)}-_${b64.slice(12)}\n`],
    ['base64 with a character outside the alphabet', `${TEXT}\n— example.com/alice *${b64.slice(1)}\n`],
    ['non-canonical base64 pad bits', `${TEXT}\n— example.com/alice AAAAAAB=\n`],
    ['signature shorter than key ID + 1 byte', `${TEXT}\n— example.com/alice ${encodeBase64(new Uint8Array(4))}\n`],
    ['control character in the text', `example.com/log\x01\n42\n\n${aliceLine}`],
    ['CRLF line endings', signed.replace(/\n/g, '\r\n')],
    ['tab in the text', `example.com/log\t\n\n${aliceLine}`],
    ['NUL in the text', `a\x00\n\n${aliceLine}`],
    ['vertical tab in the text', `a\x0b\n\n${aliceLine}`],
    ['lone surrogate in a string', `a\ud800\n\n${aliceLine}`],
    ['invalid UTF-8 byte', concat('a', Uint8Array.of(0xff), '\n\n', aliceLine)],
    ['overlong UTF-8', concat('a', Uint8Array.of(0xc0, 0xaf), '\n\n', aliceLine)],
    ['UTF-8-encoded surrogate', concat('a', Uint8Array.of(0xed, 0xa0, 0x80), '\n\n', aliceLine)],
    ['truncated UTF-8 sequence', concat('a', Uint8Array.of(0xe2, 0x80), '\n\n', aliceLine)],
  ];
  for (const [name, note] of cases) {
    const r = openNote(note, [aliceV]);
    assert.is(r.ok, false, name);
    if (!r.ok) assert.is(r.reason, 'malformed', `${name}: ${r.detail}`);
  }
  assert.ok(openNote(signNote('a\x7f\n', [ed25519NoteSigner(alice)]), [aliceV]).ok, 'DEL is not a C0 control character');
  // The canonical form of the pad-bits case parses: a 5-byte signature of an unknown key, ignored.
  assert.is(reason(openNote(`${TEXT}\n— example.com/alice AAAAAAA=\n`, [aliceV])), 'unverified');
});

test('size limits: a note over maxBytes or with more than maxSignatures lines is refused; 16 signatures are accepted', () => {
  const others = Array.from({ length: 15 }, (_, i) => ed25519NoteSigner(generateSignerKey(`w${i}`, SIG_TYPE_ED25519)));
  const sixteen = signNote(TEXT, [ed25519NoteSigner(alice), ...others]);
  assert.ok(openNote(sixteen, [aliceV]).ok);
  assert.is(reason(openNote(sixteen, [aliceV], { maxSignatures: 15 })), 'malformed');
  assert.is(reason(openNote(sixteen, [aliceV], { maxBytes: Buffer.byteLength(sixteen) - 1 })), 'malformed');
  const flood = `${TEXT}\n${aliceLine.repeat(101)}`;
  assert.equal(parseNote(flood).ok, false, 'default cap of 100 signature lines');
});

test('a blank line among the signatures moves the lines above it into the text, where they sign nothing', () => {
  const both = signNote(TEXT, [ed25519NoteSigner(alice), ed25519NoteSigner(bob)]);
  const [a, b] = both.slice(TEXT.length + 1).split(/(?<=\n)/);
  const shifted = `${TEXT}\n${a}\n${b}`;
  const parsed = parseNote(shifted);
  assert.ok(parsed.ok);
  if (parsed.ok) assert.is(parsed.note.text, `${TEXT}\n${a}`);
  assert.is(reason(openNote(shifted, [aliceV, bobV])), 'invalid-signature');
  assert.is(reason(openNote(shifted, [aliceV])), 'unverified');
});

test('a signature by the wrong key, over other text, or of the wrong length under a known (name, ID) refuses the whole note', () => {
  const mallory = generateSignerKey('example.com/alice', SIG_TYPE_ED25519);
  const forged = signNote(TEXT, [ed25519NoteSigner(mallory)]);
  const raw = decodeBase64(forged.slice(forged.lastIndexOf(' ') + 1, -1))!;
  // Mallory takes Alice's name and writes Alice's key ID: a key-ID collision, which buys only a failed verification.
  const collided = `${TEXT}\n${formatSignatureLine('example.com/alice', alice.keyId, raw.subarray(4))}`;
  assert.is(reason(openNote(collided, [aliceV])), 'invalid-signature');
  // Alice's valid signature does not save a note that also carries a failing one of hers.
  assert.equal(reason(openNote(`${TEXT}\n${aliceLine}${collided.slice(TEXT.length + 1)}`, [aliceV])), 'invalid-signature');
  const otherText = `${TEXT.replace('42', '43')}\n${aliceLine}`;
  assert.equal(reason(openNote(otherText, [aliceV])), 'invalid-signature');
  const aliceRaw = decodeBase64(aliceLine.slice(aliceLine.lastIndexOf(' ') + 1, -1))!;
  const short = `${TEXT}\n${formatSignatureLine(alice.name, alice.keyId, aliceRaw.subarray(4, 67))}`;
  assert.equal(reason(openNote(short, [aliceV])), 'invalid-signature');
  // A known key's signature under the known ID but another name is some other key: ignored.
  const renamed = `${TEXT}\n${formatSignatureLine('example.com/alice2', alice.keyId, aliceRaw.subarray(4))}`;
  assert.is(reason(openNote(renamed, [aliceV])), 'unverified');
  // The known name under another ID is also some other key: ignored, the valid one carries the note.
  const otherId = `${TEXT}\n${formatSignatureLine(alice.name, (alice.keyId + 1) >>> 0, aliceRaw.subarray(4))}${aliceLine}`;
  const r2 = openNote(otherId, [aliceV]);
  assert.ok(r2.ok);
  if (r2.ok) assert.is(r2.note.unverified.length, 1);
});

test('no known key: unverified; repeated lines are counted once; ambiguous verifier keys are a configuration fault', () => {
  assert.equal(reason(openNote(signed, [])), 'unverified');
  assert.equal(reason(openNote(signed, [bobV])), 'unverified');
  const twice = openNote(`${signed}${aliceLine}`, [aliceV]);
  assert.ok(twice.ok);
  if (twice.ok) assert.is(twice.note.verified.length, 1);
  const fake: NoteVerifier = { name: aliceV.name, keyId: aliceV.keyId, keyFingerprint: 'another key', verify: () => true };
  throws(() => openNote(signed, [aliceV, fake]), 'STK_ERR_NOTE_INVALID');
  assert.ok(openNote(signed, [aliceV, ed25519NoteVerifier(verifierKeyOf(alice))]).ok, 'the same key listed twice is fine');
});

test('a byte-order mark is text like any other: kept, and signed', () => {
  const bomText = '\ufeffhello\n';
  const note = signNote(bomText, [ed25519NoteSigner(alice)]);
  const r = openNote(utf8(note), [aliceV]);
  assert.ok(r.ok);
  if (r.ok) assert.is(r.note.text, bomText);
  assert.equal(reason(openNote(note.slice(1), [aliceV])), 'invalid-signature');
});

test('signing refuses what cannot be a note', () => {
  throws(() => signNote('no newline', [ed25519NoteSigner(alice)]), 'STK_ERR_NOTE_INVALID');
  throws(() => signNote('a\rb\n', [ed25519NoteSigner(alice)]), 'STK_ERR_NOTE_INVALID');
  throws(() => signNote('a\n', []), 'STK_ERR_NOTE_INVALID');
  throws(() => signNote('a\n', [{ name: 'bad name', keyId: 1, sign: () => new Uint8Array(64) }]), 'STK_ERR_NOTE_INVALID');
  throws(() => generateSignerKey('has+plus', SIG_TYPE_ED25519), 'STK_ERR_NOTE_INVALID');
  throws(() => generateSignerKey('', SIG_TYPE_ED25519), 'STK_ERR_NOTE_INVALID');
});

test('verifier keys: published ones parse (a + inside base64 too); every mangling is refused', () => {
  for (const k of [SPEC_VKEY, GO_VKEY, 'TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6']) assert.ok(parseVerifierKey(k).ok, k);
  const k = vkey(GO_VKEY);
  assert.is(k.name, 'PeterNeumann');
  assert.is(k.keyId, 0xc74f20a3);
  // Deleting any one character, or any run, must break it (as sumdb/note's own test does).
  for (let i = 0; i < GO_VKEY.length; i++) {
    for (let j = i + 1; j <= GO_VKEY.length; j++) {
      const mangled = GO_VKEY.slice(0, i) + GO_VKEY.slice(j);
      assert.not.ok(parseVerifierKey(mangled).ok, mangled);
    }
  }
  const bad = [
    'PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', // upper-case hex
    'PeterNeumann+00000000+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', // wrong ID
    'PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', // type 0x02
    'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWAA==', // 34 bytes
    'Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
  ];
  for (const b of bad) assert.not.ok(parseVerifierKey(b).ok, b);
  assert.not.ok(parseSignerKey(GO_SKEY.replace('c74f20a3', 'c74f20a4')).ok);
  assert.not.ok(parseSignerKey(GO_VKEY).ok);
});

test.run();
