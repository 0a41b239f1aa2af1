import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptyRoot, leafHash, merkleRoot } from '../../src/merkle/mod.ts';
import { SIG_TYPE_ED25519, encodeBase64, formatSignerKey, generateSignerKey } from '../../src/transparency/mod.ts';
import {
  WitnessStateStore,
  addCheckpoint,
  decideAddCheckpoint,
  formatAddCheckpoint,
  loadOrCreateWitnessKey,
  originHash,
  parseAddCheckpoint,
  type LogRecord,
} from '../../src/witness/mod.ts';
import { rejects } from '../helpers/assert.ts';
import { TestLog } from './fixture.ts';

const test = suite('witness: request, decision, state, key file, client');

const withDir = async (fn: (dir: string) => Promise<void>): Promise<void> => {
  const dir = mkdtempSync(join(tmpdir(), 'stk-witness-parts-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

test('an add-checkpoint body round-trips: old line, proof lines, blank line, the note bytes untouched', () => {
  const proof = [leafHash(Buffer.from('a')), leafHash(Buffer.from('b'))];
  const note = 'o\n1\nAAAA\n\n— k AAAAAAA=\n';
  const body = formatAddCheckpoint(20852014, proof, note);
  assert.is(Buffer.from(body).toString(), `old 20852014\n${encodeBase64(proof[0]!)}\n${encodeBase64(proof[1]!)}\n\n${note}`);
  const r = parseAddCheckpoint(body);
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.is(r.request.oldSize, 20852014);
  assert.equal(r.request.proof.map(encodeBase64), proof.map(encodeBase64));
  assert.is(Buffer.from(r.request.note).toString(), note);
});

// Given the record, when a verified checkpoint arrives with this old size and proof, then this decision.
test('the add-checkpoint decision, case by case', () => {
  const log = new TestLog('o').grow(20);
  const t = log.tree;
  const rec = (size: number, timestamp = 50): LogRecord => ({ origin: 'o', size, rootHash: t.root(size), timestamp, checkpoint: '' });
  const cp = (size: number, rootHash = t.root(size)) => ({ origin: 'o', size, rootHash, extensions: [] });
  const other = merkleRoot([leafHash(Buffer.from('other'))]);
  const cases: Array<[string, Parameters<typeof decideAddCheckpoint>[0], string]> = [
    ['first checkpoint', { last: null, oldSize: 0, proof: [], checkpoint: cp(5), nowSeconds: 100.7 }, 'cosign@100'],
    ['first, empty tree', { last: null, oldSize: 0, proof: [], checkpoint: cp(0, emptyRoot()), nowSeconds: 100 }, 'cosign@100'],
    ['first, size 0 with a root', { last: null, oldSize: 0, proof: [], checkpoint: cp(0, other), nowSeconds: 100 }, 'STK_ERR_WITNESS_INCONSISTENT'],
    ['first, with a proof', { last: null, oldSize: 0, proof: [other], checkpoint: cp(5), nowSeconds: 100 }, 'STK_ERR_WITNESS_INCONSISTENT'],
    ['first, old size claimed', { last: null, oldSize: 3, proof: t.consistencyProof(3, 5), checkpoint: cp(5), nowSeconds: 100 }, 'STK_ERR_WITNESS_CONFLICT:0'],
    ['successor', { last: rec(5), oldSize: 5, proof: t.consistencyProof(5, 9), checkpoint: cp(9), nowSeconds: 100 }, 'cosign@100'],
    ['successor, clock behind', { last: rec(5, 500), oldSize: 5, proof: t.consistencyProof(5, 9), checkpoint: cp(9), nowSeconds: 100 }, 'cosign@500'],
    ['same head again', { last: rec(9), oldSize: 9, proof: [], checkpoint: cp(9), nowSeconds: 100 }, 'cosign@100'],
    ['same size, other root', { last: rec(9), oldSize: 9, proof: [], checkpoint: cp(9, other), nowSeconds: 100 }, 'STK_ERR_WITNESS_INCONSISTENT'],
    ['same size, a proof', { last: rec(9), oldSize: 9, proof: [other], checkpoint: cp(9), nowSeconds: 100 }, 'STK_ERR_WITNESS_INCONSISTENT'],
    ['stale old size', { last: rec(9), oldSize: 5, proof: t.consistencyProof(5, 12), checkpoint: cp(12), nowSeconds: 100 }, 'STK_ERR_WITNESS_CONFLICT:9'],
    ['rollback', { last: rec(9), oldSize: 5, proof: [], checkpoint: cp(5), nowSeconds: 100 }, 'STK_ERR_WITNESS_CONFLICT:9'],
    ['old size above the checkpoint', { last: rec(9), oldSize: 9, proof: [], checkpoint: cp(5), nowSeconds: 100 }, 'STK_ERR_WITNESS_MALFORMED'],
    ['wrong proof', { last: rec(9), oldSize: 9, proof: t.consistencyProof(8, 12), checkpoint: cp(12), nowSeconds: 100 }, 'STK_ERR_WITNESS_INCONSISTENT'],
    ['fork root', { last: rec(9), oldSize: 9, proof: t.consistencyProof(9, 12), checkpoint: cp(12, other), nowSeconds: 100 }, 'STK_ERR_WITNESS_INCONSISTENT'],
    ['empty proof for growth', { last: rec(9), oldSize: 9, proof: [], checkpoint: cp(12), nowSeconds: 100 }, 'STK_ERR_WITNESS_INCONSISTENT'],
  ];
  for (const [name, input, want] of cases) {
    const d = decideAddCheckpoint(input);
    const got = d.kind === 'cosign' ? `cosign@${d.timestamp}` : d.code === 'STK_ERR_WITNESS_CONFLICT' ? `${d.code}:${d.currentSize}` : d.code;
    assert.is(got, want, name);
  }
});

test('state: records survive a reopen; a stray temp file is dropped; a record that does not check out stops the witness', async () => {
  await withDir(async (dir) => {
    const log = new TestLog('stockade.test/tenant/state').grow(4);
    const note = log.checkpoint(4);
    const { store } = await WitnessStateStore.open(dir);
    await store.write({ origin: log.origin, size: 4, rootHash: log.tree.root(4), timestamp: 9, checkpoint: note });
    writeFileSync(join(dir, 'logs', `.${originHash(log.origin)}.abc.tmp`), 'half a write');
    const { records } = await WitnessStateStore.open(dir);
    assert.is(records.get(log.origin)?.size, 4);
    assert.equal(readdirSync(join(dir, 'logs')), [`${originHash(log.origin)}.json`]);
    assert.is((statSync(join(dir, 'logs', `${originHash(log.origin)}.json`)).mode & 0o777).toString(8), '600');

    const file = join(dir, 'logs', `${originHash(log.origin)}.json`);
    const good = { origin: log.origin, size: 4, rootHash: encodeBase64(log.tree.root(4)), timestamp: 9, checkpoint: note };
    const corrupt: Array<[string, string]> = [
      ['not JSON', '{"origin":'],
      ['size disagrees with the note', JSON.stringify({ ...good, size: 5 })],
      ['root disagrees with the note', JSON.stringify({ ...good, rootHash: encodeBase64(emptyRoot()) })],
      ['no checkpoint', JSON.stringify({ ...good, checkpoint: undefined })],
      ['negative timestamp', JSON.stringify({ ...good, timestamp: -1 })],
    ];
    for (const [name, text] of corrupt) {
      writeFileSync(file, text);
      const err = await rejects(WitnessStateStore.open(dir), 'STK_ERR_WITNESS_STATE');
      assert.ok(err.message.includes(file), name);
    }
    // A record filed under another origin's hash.
    rmSync(file);
    writeFileSync(join(dir, 'logs', `${originHash('someone else')}.json`), JSON.stringify(good));
    await rejects(WitnessStateStore.open(dir), 'STK_ERR_WITNESS_STATE');
  });
});

test('key file: made once with mode 0600 and read back; wrong type, wrong name, open mode and garbage are refused', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'sub', 'witness.key');
    const a = await loadOrCreateWitnessKey(path, { defaultName: 'witness.test/a' });
    assert.ok(a.created);
    assert.is(a.key.name, 'witness.test/a');
    assert.is((statSync(path).mode & 0o777).toString(8), '600');
    const b = await loadOrCreateWitnessKey(path, { name: 'witness.test/a' });
    assert.not.ok(b.created);
    assert.equal(b.key.publicKey, a.key.publicKey);
    await rejects(loadOrCreateWitnessKey(path, { name: 'witness.test/b' }), 'STK_ERR_WITNESS_KEY');
    const noteKey = join(dir, 'note.key');
    writeFileSync(noteKey, formatSignerKey(generateSignerKey('log', SIG_TYPE_ED25519)), { mode: 0o600 });
    await rejects(loadOrCreateWitnessKey(noteKey), 'STK_ERR_WITNESS_KEY');
    const garbage = join(dir, 'garbage.key');
    writeFileSync(garbage, 'PRIVATE+KEY+x+00000000+AAAA', { mode: 0o600 });
    await rejects(loadOrCreateWitnessKey(garbage), 'STK_ERR_WITNESS_KEY');
    const open = join(dir, 'open.key');
    writeFileSync(open, formatSignerKey(a.key), { mode: 0o640 });
    await rejects(loadOrCreateWitnessKey(open), 'STK_ERR_WITNESS_KEY');
    await rejects(loadOrCreateWitnessKey(join(dir, 'new.key'), { name: 'has space' }), 'STK_ERR_WITNESS_KEY');
    mkdirSync(join(dir, 'adir'));
    await rejects(loadOrCreateWitnessKey(join(dir, 'adir'), {}), 'STK_ERR_WITNESS_KEY');
  });
});

test('client: a witness answering outside the protocol is STK_ERR_WITNESS_UNAVAILABLE; so is one that is not there', async () => {
  const answers: Array<[number, Record<string, string>, string]> = [
    [500, { 'content-type': 'text/plain' }, 'boom\n'],
    [200, { 'content-type': 'text/plain' }, 'not a signature line\n'],
    [200, { 'content-type': 'text/plain' }, ''],
    [409, { 'content-type': 'text/plain' }, '7\n'],
    [409, { 'content-type': 'text/x.tlog.size' }, 'seven\n'],
    [302, { location: '/elsewhere' }, ''],
    [200, { 'content-type': 'text/plain' }, `— w ${'A'.repeat(100_000)}=\n`],
  ];
  let next = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const [status, headers, body] = answers[next++]!;
      res.writeHead(status, headers).end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const addr = server.address();
    const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    for (let i = 0; i < answers.length; i++) {
      const err = await rejects(addCheckpoint(url, 0, [], 'o\n1\nAAAA\n\n— k AAAAAAA=\n'), 'STK_ERR_WITNESS_UNAVAILABLE');
      assert.ok(err.message.length > 0, `answer ${i}`);
    }
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
  await rejects(addCheckpoint('http://127.0.0.1:1', 0, [], 'x\n'), 'STK_ERR_WITNESS_UNAVAILABLE');
});

test.run();
