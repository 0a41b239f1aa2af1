import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTenant, dispatch, ingressFixture, revokeAgent, type IngressFixture } from './fixture.ts';
import { tempDir } from '../helpers/nats.ts';
import { runCli } from '../helpers/proc.ts';
import { CommandEvents } from '../../commands/agent-commands/events.ts';

const test = suite<{ f: IngressFixture }>('stockade agent (the reference agent)');

test.before(async (ctx) => {
  ctx.f = await ingressFixture();
});
test.after(async (ctx) => {
  await ctx.f?.close();
});

test('enroll keeps key and certificate mode 0600; report sends a file; run heartbeats, answers commands, stops when revoked', async ({ f }) => {
  const { tenant, secret } = await createTenant(f.log, ['edr']);
  const dir = await tempDir();
  const agentDir = join(dir.path, 'agent');
  const caFile = join(dir.path, 'ca.crt');
  await writeFile(caFile, f.caPem);
  const run = runCli(['agent', 'run', '--dir', agentDir, '--interval', '0.2']);
  try {
    await run.exited; // not enrolled yet: refuses to run
    assert.ok(
      run.lines.some((l) => l.includes('STK_ERR_CONFIG')),
      run.lines.join('\n'),
    );

    const enroll = runCli(['agent', 'enroll', '--url', f.url, '--ca', caFile, '--dir', agentDir], { STOCKADE_ENROLL_SECRET: secret });
    const line = JSON.parse(await enroll.waitFor(/"enrolled"/));
    assert.is(await enroll.exited, 0);
    assert.not.ok(
      enroll.lines.some((l) => l.includes(secret)),
      'the secret is never printed',
    );
    const agentId: string = line.agentId;
    for (const name of ['agent.key', 'agent.crt']) assert.is((await stat(join(agentDir, name))).mode & 0o777, 0o600, name);

    const file = join(dir.path, 'events.json');
    await writeFile(
      file,
      JSON.stringify({ events: [{ kind: 'alert', at: new Date().toISOString(), data: { rule: 'cli', severity: 'low', title: 'from a file' } }] }),
    );
    const report = runCli(['agent', 'report', file, '--dir', agentDir]);
    assert.is(JSON.parse(await report.waitFor(/"reported"/)).accepted, 1);
    assert.is(await report.exited, 0);

    const commandId = await dispatch(f.log, tenant, agentId, 'ping');
    const agent = runCli(['agent', 'run', '--dir', agentDir, '--interval', '0.2']);
    try {
      await agent.waitFor(/"heartbeat"/);
      const done = JSON.parse(await agent.waitFor(/"command done"/));
      assert.is(done.commandId, commandId);
      assert.is(done.outcome, 'succeeded');
      const events = (await f.log.readAggregate({ tenant, aggregateType: 'command', aggregateId: commandId })).events;
      assert.is(events.at(-1)!.type, CommandEvents.completed);
      assert.equal(events.at(-1)!.data, { outcome: 'succeeded', output: 'pong' });

      await revokeAgent(f.log, tenant, agentId);
      await agent.waitFor(/STK_ERR_AGENT_REVOKED/);
      assert.is(await agent.exited, 3);
    } finally {
      await agent.kill();
    }
  } finally {
    await run.kill();
    await dir.cleanup();
  }
});

test('run renews its certificate before it expires, and keeps working with the new one', async () => {
  // Certificates of ~9 seconds: less than a third of their lifetime is left from the start.
  const g = await ingressFixture({ certValidityDays: 0.0001 });
  const dir = await tempDir();
  try {
    const { secret } = await createTenant(g.log);
    const caFile = join(dir.path, 'ca.crt');
    await writeFile(caFile, g.caPem);
    const agentDir = join(dir.path, 'agent');
    const enroll = runCli(['agent', 'enroll', '--url', g.url, '--ca', caFile, '--dir', agentDir], { STOCKADE_ENROLL_SECRET: secret });
    assert.is(await enroll.exited, 0);
    const before = (await stat(join(agentDir, 'agent.crt'))).mtimeMs;
    const agent = runCli(['agent', 'run', '--dir', agentDir, '--interval', '0.2']);
    try {
      await agent.waitFor(/"certificate renewed"/);
      // The first cycle renews before its heartbeat, so every heartbeat went out on the new certificate.
      await agent.waitFor(/"heartbeat"/);
      assert.ok(agent.lines.findIndex((l) => l.includes('"heartbeat"')) > agent.lines.findIndex((l) => l.includes('"certificate renewed"')));
      assert.not.ok(
        agent.lines.some((l) => l.includes('agent cycle failed')),
        agent.lines.join('\n'),
      );
      assert.ok((await stat(join(agentDir, 'agent.crt'))).mtimeMs > before, 'the new certificate is saved');
      assert.is((await stat(join(agentDir, 'agent.key'))).mode & 0o777, 0o600);
    } finally {
      await agent.kill();
    }
  } finally {
    await g.close();
    await dir.cleanup();
  }
});

test.run();
