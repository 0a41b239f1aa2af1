import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SIG_TYPE_COSIGNATURE_V1, formatVerifierKey, generateSignerKey, verifierKeyOf } from '../../src/transparency/mod.ts';
import { addCheckpoint } from '../../src/witness/mod.ts';
import { REAL_CHECKPOINT, REAL_LOG_VKEY, REAL_WITNESS_VKEY } from '../transparency/vectors.ts';
import { TestLog, startWitness } from '../witness/fixture.ts';
import { transparencyExamples } from './transparency-examples.ts';

const test = suite('docs/transparency.md: examples from the code, the openssl script');

const doc = readFileSync(resolve(import.meta.dirname, '../../docs/transparency.md'), 'utf8');

function docScript(dir: string): string {
  const marker = doc.indexOf('<!-- verify-checkpoint.sh');
  const start = doc.indexOf('```sh\n', marker) + '```sh\n'.length;
  const end = doc.indexOf('\n```', start);
  if (marker < 0 || start < marker || end < 0) throw new Error('verify-checkpoint.sh not found in docs/transparency.md');
  const path = join(dir, 'verify-checkpoint.sh');
  writeFileSync(path, doc.slice(start, end + 1), { mode: 0o755 });
  return path;
}

function run(script: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((res) => {
    execFile('/bin/sh', [script, ...args], (err, stdout, stderr) => res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }));
  });
}

test('every example value on the page is what the code computes', () => {
  const e = transparencyExamples();
  for (const [name, value] of Object.entries(e)) assert.ok(doc.includes(value), `docs/transparency.md does not show ${name}:\n${value}`);
});

test('the script verifies the example, a real public checkpoint, and what our witness returns; it refuses tampering', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stk-doc-transparency-'));
  const e = transparencyExamples();
  const script = docScript(dir);
  const note = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  try {
    const ok = await run(script, [note('example', e.cosigned!), e.logVkey!, e.witnessVkey!]);
    assert.is(ok.code, 0, ok.out);
    assert.match(ok.out, `OK log stockade.example/tenant/acme: size 3, root ${e.rootBase64}`);
    assert.match(ok.out, 'OK witness witness.example/w1: cosigned at 1767225600');

    const real = await run(script, [note('real', REAL_CHECKPOINT), REAL_LOG_VKEY, REAL_WITNESS_VKEY]);
    assert.is(real.code, 0, real.out);
    assert.match(real.out, 'OK witness remora.n621.de: cosigned at 1779573024');

    const refusals: Array<[string, string[], RegExp]> = [
      ['size changed', [note('bent', e.cosigned!.replace('\n3\n', '\n4\n')), e.logVkey!], /FAIL: stockade.example\/tenant\/acme: a signature does not verify/],
      [
        'timestamp changed',
        [note('late', e.cosigned!.replace('3xwKNQAAAABpVbkA', '3xwKNQAAAABpVbkB')), e.logVkey!, e.witnessVkey!],
        /FAIL: witness.example\/w1/,
      ],
      [
        'a witness that did not cosign',
        [note('plain', e.note!), e.logVkey!, formatVerifierKey(verifierKeyOf(generateSignerKey('witness.example/w2', SIG_TYPE_COSIGNATURE_V1)))],
        /FAIL: witness.example\/w2: no signature line/,
      ],
      [
        'a vkey whose ID is not its key',
        [note('example2', e.cosigned!), e.logVkey!.replace(/\+[0-9a-f]{8}\+/, '+00000000+')],
        /key ID 00000000 is not the key's/,
      ],
      ['the witness key given as the log key', [note('example3', e.cosigned!), e.witnessVkey!], /not an Ed25519 key of type 01/],
      ['no blank line', [note('flat', e.cosigned!.replace('=\n\n—', '=\n—')), e.logVkey!], /FAIL/],
    ];
    for (const [name, args, want] of refusals) {
      const r = await run(script, args);
      assert.is(r.code, 1, `${name}: ${r.out}`);
      assert.match(r.out, want, name);
    }

    // End to end: a checkpoint cosigned by our witness over HTTP, checked with openssl alone.
    const log = new TestLog('stockade.test/tenant/doc');
    const w = await startWitness([log]);
    try {
      const cp = log.checkpoint(7);
      const r = await addCheckpoint(w.url, 0, [], cp);
      assert.ok(r.ok);
      if (!r.ok) return;
      const live = await run(script, [note('live', cp + r.cosignatures.join('')), log.vkey, w.witness.vkey]);
      assert.is(live.code, 0, live.out);
      assert.match(live.out, 'OK witness witness.test/w1: cosigned at');
    } finally {
      await w.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
