import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EMPTY_ROOT, emptyRoot, leafHash, merkleRoot } from '../../src/merkle/mod.ts';
import {
  SIG_TYPE_ED25519,
  ed25519NoteSigner,
  ed25519NoteVerifier,
  encodeBase64,
  formatCheckpoint,
  generateSignerKey,
  openCheckpoint,
  parseCheckpoint,
  signCheckpoint,
  signNote,
  verifierKeyOf,
} from '../../src/transparency/mod.ts';
import { throws } from '../helpers/assert.ts';

const test = suite('transparency: checkpoints');

const log = generateSignerKey('stockade.example/tenant/acme', SIG_TYPE_ED25519);
const logV = ed25519NoteVerifier(verifierKeyOf(log));
const root = merkleRoot([leafHash(Buffer.from('a')), leafHash(Buffer.from('b'))]);
const R = encodeBase64(root);

test('format and parse are inverse, extension lines included; the text is exactly the spec layout', () => {
  const c = { origin: 'stockade.example/tenant/acme', size: 2, rootHash: root, extensions: ['ext one', 'ext-two'] };
  const text = formatCheckpoint(c);
  assert.is(text, `stockade.example/tenant/acme\n2\n${R}\next one\next-two\n`);
  const p = parseCheckpoint(text);
  assert.ok(p.ok);
  if (p.ok) assert.equal({ ...p.checkpoint, rootHash: [...p.checkpoint.rootHash] }, { ...c, rootHash: [...root] });
  assert.is(formatCheckpoint({ origin: 'o', size: 0, rootHash: emptyRoot(), extensions: [] }), `o\n0\n${encodeBase64(EMPTY_ROOT)}\n`);
});

test('every malformed checkpoint body is refused', () => {
  const cases: Array<[string, string]> = [
    ['two lines', `o\n2\n`],
    ['no final newline', `o\n2\n${R}`],
    ['empty origin', `\n2\n${R}\n`],
    ['empty extension line', `o\n2\n${R}\n\n`],
    ['empty line between extensions', `o\n2\n${R}\na\n\nb\n`],
    ['leading zero', `o\n02\n${R}\n`],
    ['negative size', `o\n-2\n${R}\n`],
    ['plus sign', `o\n+2\n${R}\n`],
    ['space in size', `o\n 2\n${R}\n`],
    ['decimal point', `o\n2.0\n${R}\n`],
    ['hex size', `o\n0x2\n${R}\n`],
    ['exponent', `o\n2e3\n${R}\n`],
    ['size above 2^53 - 1', `o\n9007199254740992\n${R}\n`],
    ['uint64 max', `o\n18446744073709551615\n${R}\n`],
    ['root not base64', `o\n2\n${R.replace('=', '!')}\n`],
    ['root of 31 bytes', `o\n2\n${encodeBase64(root.subarray(1))}\n`],
    ['root of 33 bytes', `o\n2\n${encodeBase64(Uint8Array.of(...root, 0))}\n`],
    ['root without padding', `o\n2\n${R.replace('=', '')}\n`],
    ['root in hex', `o\n2\n${Buffer.from(root).toString('hex')}\n`],
  ];
  for (const [name, text] of cases) {
    const r = parseCheckpoint(text);
    assert.is(r.ok, false, name);
  }
  assert.ok(parseCheckpoint(`o\n9007199254740991\n${R}\n`).ok, '2^53 - 1 is the largest size accepted');
});

test('a signed checkpoint opens with the log key; another key, another body or a non-checkpoint note does not', () => {
  const note = signCheckpoint({ origin: log.name, size: 2, rootHash: root, extensions: [] }, [ed25519NoteSigner(log)]);
  const r = openCheckpoint(note, [logV]);
  assert.ok(r.ok);
  if (r.ok) {
    assert.is(r.checkpoint.size, 2);
    assert.is(r.checkpoint.origin, log.name);
  }
  const other = generateSignerKey(log.name, SIG_TYPE_ED25519);
  const o = openCheckpoint(note, [ed25519NoteVerifier(verifierKeyOf(other))]);
  assert.equal(o.ok ? 'ok' : o.reason, 'unverified');
  const tampered = note.replace('\n2\n', '\n3\n');
  const t = openCheckpoint(tampered, [logV]);
  assert.equal(t.ok ? 'ok' : t.reason, 'invalid-signature');
  const notCheckpoint = signNote('hello\n', [ed25519NoteSigner(log)]);
  const n = openCheckpoint(notCheckpoint, [logV]);
  assert.equal(n.ok ? 'ok' : n.reason, 'malformed');
});

test('formatting refuses a checkpoint that could not be parsed back', () => {
  const base = { origin: 'o', size: 1, rootHash: root, extensions: [] as string[] };
  throws(() => formatCheckpoint({ ...base, origin: '' }), 'STK_ERR_NOTE_INVALID');
  throws(() => formatCheckpoint({ ...base, origin: 'a\nb' }), 'STK_ERR_NOTE_INVALID');
  throws(() => formatCheckpoint({ ...base, size: -1 }), 'STK_ERR_NOTE_INVALID');
  throws(() => formatCheckpoint({ ...base, size: 1.5 }), 'STK_ERR_NOTE_INVALID');
  throws(() => formatCheckpoint({ ...base, rootHash: root.subarray(1) }), 'STK_ERR_NOTE_INVALID');
  throws(() => formatCheckpoint({ ...base, size: 0 }), 'STK_ERR_NOTE_INVALID');
  throws(() => formatCheckpoint({ ...base, extensions: [''] }), 'STK_ERR_NOTE_INVALID');
  throws(() => formatCheckpoint({ ...base, extensions: ['a\nb'] }), 'STK_ERR_NOTE_INVALID');
});

test.run();
