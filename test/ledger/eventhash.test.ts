import { createHash } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eventHash, eventPreimagePrefix } from '../../src/ledger/format.ts';

const test = suite('ledger eventHash: the documented preimage, whatever the sizes and characters');

/** SHA-256 of the preimage as docs/ledger-format.md spells it, the slow and obvious way. */
const expected = (subject: string, version: string, body: Uint8Array): string =>
  createHash('sha256').update(eventPreimagePrefix(subject, version)).update(body).digest('hex');

test('ASCII and multi-byte subjects and versions, small and large bodies, one after another (the scratch buffer is reused and grown)', () => {
  const cases: Array<[string, string, Uint8Array]> = [
    ['ev.3.acme.alert.01HZX', '1', Buffer.from('{"format":1,"events":[]}')],
    ['ev.3.acme.alert.01HZX', 'grüße ✓', Buffer.from('{"a":"ü"}')],
    ['ev.0.t.x.y', '', new Uint8Array(0)],
    ['ev.1.t.x.y', '12', Buffer.alloc(100_000, 0x7a)],
    ['ev.1.t.x.y', '€'.repeat(3000), Buffer.alloc(10, 1)],
    ['ev.3.acme.alert.01HZX', '1', Buffer.from('{"format":1,"events":[]}')],
  ];
  for (const [subject, version, body] of cases)
    assert.is(eventHash(subject, version, body), expected(subject, version, body), `${subject} ${version.slice(0, 10)}`);
});

test.run();
