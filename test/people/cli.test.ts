import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { freePort } from '../../src/nats/server.ts';
import { tempDir } from '../helpers/nats.ts';
import { runCli } from '../helpers/proc.ts';

const test = suite('cli: stockade user against a running install');

test('invite prints a single-use link; list, grant, roles and disable go through the operator API', async () => {
  const dir = await tempDir();
  const serve = runCli(['serve', '--data', dir.path, '--role', 'api,projector', '--http', `127.0.0.1:${await freePort()}`]);
  try {
    const running = JSON.parse(await serve.waitFor(/stockade is running/));
    const invite = runCli(['user', 'invite', 'ops@example.test', '--name', 'Ops Person', '--role', 'auditor', '--data', dir.path]);
    assert.is(await invite.exited, 0, invite.lines.join('\n'));
    const out = JSON.parse(invite.lines.join('\n'));
    assert.match(out.invitation.link, new RegExp(`^${running.api}/ui/invite#stk_inv_[A-Za-z0-9_-]{12}\\.[A-Za-z0-9_-]{43}$`));
    const list = runCli(['user', 'list', '--data', dir.path]);
    assert.is(await list.exited, 0);
    assert.ok(
      list.lines.some((l) => l.startsWith(`${out.id}\tops@example.test\tOps Person\tinvited`)),
      list.lines.join('\n'),
    );
    const grant = runCli(['user', 'grant', out.id, 'default', 'customer-analyst', '--data', dir.path]);
    assert.is(await grant.exited, 0, grant.lines.join('\n'));
    assert.ok(
      grant.lines.some((l) => l === `${out.id} on default: customer-analyst`),
      grant.lines.join('\n'),
    );
    const bad = runCli(['user', 'roles', out.id, 'customer-admin', '--data', dir.path]);
    assert.is(await bad.exited, 1);
    assert.ok(
      bad.lines.some((l) => l.includes('STK_ERR_VALIDATION')),
      bad.lines.join('\n'),
    );
    const disable = runCli(['user', 'disable', out.id, '--reason', 'test', '--data', dir.path]);
    assert.is(await disable.exited, 0, disable.lines.join('\n'));
    assert.ok(
      disable.lines.some((l) => l === `${out.id}: disabled`),
      disable.lines.join('\n'),
    );
  } finally {
    await serve.kill();
    await dir.cleanup();
  }
});

test.run();
