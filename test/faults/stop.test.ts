import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { natsFixture } from '../helpers/nats.ts';
import { withDeadline } from '../helpers/deadline.ts';
import { RoleProcess } from './harness.ts';

const test = suite('fault suite: a stop during a NATS outage ends');

test('sealer and detector processes asked to stop while nats-server is gone exit, saying which part could not finish', async () => {
  const nats = await natsFixture();
  const env = { NATS_URL: nats.url };
  // Both tell NATS something on their way out (floors, leases): the parts that waited forever.
  const roles = [await RoleProcess.create('sealer', env), await RoleProcess.create('detector', env)];
  try {
    await Promise.all(roles.map((r) => r.start()));
    await nats.server.stop();
    await Promise.all(roles.map((r) => r.proc.waitFor(/NATS connection lost/, 60_000)));
    for (const r of roles) r.proc.child.kill('SIGTERM');
    // Generous: each part that cannot finish is given 10 s before the stop goes on without it.
    const codes = await withDeadline(Promise.all(roles.map((r) => r.proc.exited)), 'the role processes to exit after SIGTERM', 90_000);
    assert.equal(codes, [0, 0]);
    for (const r of roles) {
      const late = r.proc.lines.filter((l) => l.includes('did not stop in time')).map((l) => JSON.parse(l).component as string);
      assert.ok(late.includes(r.roles), `${r.roles} named as the part that could not finish: ${late.join(', ')}`);
      assert.ok(
        r.proc.lines.some((l) => l.includes('"msg":"stopped"')),
        'the process reports it stopped',
      );
    }
  } finally {
    await Promise.all(roles.map((r) => r.proc?.kill()));
    await nats.stop();
  }
});

test.run();
