import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { installSecret } from '../../src/install-secret.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { doorOf, natsFixture } from '../helpers/nats.ts';

/** Processes of one install starting together agree on each install-wide secret. */
const test = suite('install secrets in stk-install');

test('eight processes asking at once for a secret nobody made yet all get the same 32 bytes; another name is another secret', async () => {
  const nats = await natsFixture();
  const conns = await Promise.all(Array.from({ length: 8 }, () => connectNats({ servers: nats.url })));
  try {
    const doors = await Promise.all(conns.map((nc) => doorOf(nc)));
    const keys = await Promise.all(doors.map((d) => installSecret(d, 'test-key')));
    assert.is(keys[0]!.length, 32);
    for (const k of keys) assert.ok(k.equals(keys[0]!), 'one secret for every process');
    const other = await installSecret(doors[0]!, 'other-key');
    assert.not.ok(other.equals(keys[0]!));
    assert.ok((await installSecret(doors[3]!, 'test-key')).equals(keys[0]!), 'asked again later: the same');
  } finally {
    for (const nc of conns) await nc.close();
    await nats.stop();
  }
});

test.run();
