import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isValidId, newId } from '../../src/ids.ts';

const test = suite('server-generated ids');

test('never start with "-" (a command line would take the id for an option), and stay 22 base64url characters', () => {
  // 1 id in 64 started with "-" before: 20,000 ids would hold about 312 of them.
  const ids = Array.from({ length: 20_000 }, () => newId());
  assert.is(ids.filter((id) => id.startsWith('-')).length, 0);
  assert.ok(
    ids.every((id) => /^[A-Za-z0-9_-]{22}$/.test(id) && isValidId('token', id)),
    'every id is 22 base64url characters',
  );
  assert.is(new Set(ids).size, ids.length);
  // The first character still takes every other value (nothing else was taken from the space).
  assert.is(new Set(ids.map((id) => id[0])).size, 63);
});

test.run();
