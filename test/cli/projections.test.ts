import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli } from '../helpers/proc.ts';
import { tempDir } from '../helpers/nats.ts';
import { freePort } from '../../src/nats/server.ts';
import { natsFixture } from '../helpers/nats.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { EventLog } from '../../src/log/mod.ts';
import { createTenant, enrollAgent, freshTenant, raiseAlert } from '../helpers/events.ts';

const test = suite('cli: tenant and projections against a running install');

test('tenant create / product / list, then projections rebuild runs inside the install while it serves', async () => {
  const dir = await tempDir();
  const serve = runCli(['serve', '--data', dir.path, '--role', 'api,projector', '--http', `127.0.0.1:${await freePort()}`]);
  try {
    const running = JSON.parse(await serve.waitFor(/stockade is running/));
    const create = runCli(['tenant', 'create', 'acme', '--name', 'Acme Corp', '--data', dir.path]);
    assert.is(await create.exited, 0, create.lines.join('\n'));
    const created = JSON.parse(create.lines.join('\n'));
    assert.match(created.enrollSecret, /^stk_es_/);
    const product = runCli(['tenant', 'product', 'acme', 'edr', 'on', '--data', dir.path]);
    assert.is(await product.exited, 0, product.lines.join('\n'));
    const list = runCli(['tenant', 'list', '--data', dir.path]);
    assert.is(await list.exited, 0);
    assert.ok(
      list.lines.some((l) => l.startsWith('acme\tAcme Corp\tedr')),
      list.lines.join('\n'),
    );
    assert.ok(list.lines.some((l) => l.startsWith('default\t')));

    const rebuild = runCli(['projections', 'rebuild', '--data', dir.path]);
    assert.is(await rebuild.exited, 0, rebuild.lines.join('\n'));
    assert.ok(
      rebuild.lines.some((l) => /^rebuilt tenants, tokens, agents, .* events up to position \d+/.test(l)),
      rebuild.lines.join('\n'),
    );
    const one = runCli(['projections', 'rebuild', '--model', 'tenants', '--data', dir.path]);
    assert.is(await one.exited, 0, one.lines.join('\n'));
    assert.ok(one.lines.some((l) => l.startsWith('rebuilt tenants:')));
    const bad = runCli(['projections', 'rebuild', '--model', 'nope', '--data', dir.path]);
    assert.is(await bad.exited, 1);
    assert.ok(
      bad.lines.some((l) => l.includes('STK_ERR_VALIDATION')),
      bad.lines.join('\n'),
    );
    // Still serving the rebuilt models.
    const key = (await import('node:fs')).readFileSync(`${dir.path}/admin.key`, 'utf8').trim();
    const res = await fetch(`${running.api}/api/v1/tenants/acme`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(((await res.json()) as any).products, ['edr']);
    const status = runCli(['projections', 'status', '--data', dir.path]);
    assert.is(await status.exited, 0);
    assert.is(JSON.parse(status.lines.join('\n')).events, 0);
  } finally {
    await serve.kill();
    await dir.cleanup();
  }
});

test('with no install running, rebuild opens the data folder itself (NATS_URL) and status reads it', async () => {
  const nats = await natsFixture();
  const dir = await tempDir();
  const nc = await connectNats({ servers: nats.url });
  try {
    const log = await EventLog.connect(nc);
    const t = freshTenant();
    await createTenant(log, t);
    const { agentId } = await enrollAgent(log, t);
    for (let i = 0; i < 10; i++) await raiseAlert(log, t, agentId);
    const last = await log.lastPosition();
    const rebuild = runCli(['projections', 'rebuild', '--data', dir.path], { NATS_URL: nats.url });
    assert.is(await rebuild.exited, 0, rebuild.lines.join('\n'));
    assert.ok(
      rebuild.lines.some((l) => l.includes(`up to position ${last}`)),
      rebuild.lines.join('\n'),
    );
    const status = runCli(['projections', 'status', '--data', dir.path], { NATS_URL: nats.url });
    assert.is(await status.exited, 0, status.lines.join('\n'));
    const s = JSON.parse(status.lines.join('\n'));
    assert.is(s.position, last);
    assert.is(s.events, 0);
  } finally {
    await nc.close();
    await nats.stop();
    await dir.cleanup();
  }
});

test.run();
