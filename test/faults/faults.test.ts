import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AgentClient } from '../../src/agent/client.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { EventLog } from '../../src/log/mod.ts';
import { doorOf, natsFixture } from '../helpers/nats.ts';
import { readToken } from '../helpers/events.ts';
import { runCli } from '../helpers/proc.ts';
import { RoleProcess, SteadyLoad, lastRecordOf, ledgerCovers, onboardAgent, readWhenCaughtUp } from './harness.ts';

const test = suite('fault suite: kill -9 each role under steady load');

test('ingress, API (with its read models), sealer and nats-server each killed and restarted: nothing acknowledged lost or doubled, ledger verifies', async () => {
  const nats = await natsFixture();
  const env = { NATS_URL: nats.url };
  const api = await RoleProcess.create('api,projector', env);
  const ingress = await RoleProcess.create('ingress', env);
  const sealer = await RoleProcess.create('sealer', env, { STOCKADE_LEDGER_BLOCK_MAX_MS: '100' });
  const nc = await connectNats({ servers: nats.url });
  let agent: AgentClient | undefined;
  let load: SteadyLoad | undefined;
  const figures: string[] = [];
  try {
    await Promise.all([api.start(), ingress.start(), sealer.start()]);
    const onboarded = await onboardAgent(api, ingress, 'faults');
    const { tenant, admin: call } = onboarded;
    agent = onboarded.agent;
    load = new SteadyLoad(agent);
    load.start();
    for (let i = 0; i < 10; i++) await load.nextAck();

    const recover = async (name: string, kill: () => Promise<void>, restart: () => Promise<void>, recovered: () => Promise<unknown>): Promise<void> => {
      const before = load!.acked;
      const t0 = Date.now();
      await kill();
      await restart();
      await recovered();
      figures.push(`${name.padEnd(12)} recovered in ${Date.now() - t0} ms; ${load!.acked - before} events acknowledged meanwhile`);
    };
    // While the ingress is down the agent's connection fails and it resends the same batch.
    await recover(
      'ingress',
      () => ingress.kill9(),
      () => ingress.start(),
      () => load!.nextAck(),
    );
    // The API's read models resume from their LevelDB checkpoint and catch up.
    await recover(
      'api+reads',
      () => api.kill9(),
      () => api.start(),
      async () => {
        const r = await readWhenCaughtUp(call, `/api/v1/tenants/${tenant}/overview`, await readToken(await doorOf(nc), tenant, await lastRecordOf(nc, tenant)));
        assert.is(r.status, 200, JSON.stringify(r.body));
      },
    );
    // The sealer resumes from what LEDGER says is sealed.
    await recover(
      'sealer',
      () => sealer.kill9(),
      () => sealer.start(),
      async () => ledgerCovers(nc, tenant, await lastRecordOf(nc, tenant)),
    );
    // JetStream gone: the ingress answers 503, the agent backs off and resends; file storage keeps every ack.
    await recover(
      'nats-server',
      () => nats.server.kill(),
      async () => void (await nats.restart()),
      () => load!.nextAck(),
    );
    for (let i = 0; i < 5; i++) await load.nextAck();
    await load.stop();
    assert.equal(load.failures, [], 'the agent never gave up on a batch');

    const last = await lastRecordOf(nc, tenant);
    const log = await EventLog.connect(nc, { skipEnsureStream: true });
    const records = await log.readTenant(tenant);
    log.close();
    const alertIds = records
      .flatMap((r) => r.events)
      .filter((e) => e.type === 'alert.raised')
      .map((e) => e.id);
    const unique = new Set(alertIds);
    figures.push(`acknowledged ${load.acked} alert events in ${load.batches} batches; found ${alertIds.length} (${unique.size} distinct)`);
    assert.is(unique.size, alertIds.length, 'no event stored twice');
    assert.is(alertIds.length, load.acked, 'every acknowledged event is stored, and nothing else');

    const overview = await readWhenCaughtUp(call, `/api/v1/tenants/${tenant}/overview`, await readToken(await doorOf(nc), tenant, last));
    assert.is(overview.body.alerts.open, load.acked, 'the read model counts each event once');

    await ledgerCovers(nc, tenant, last).catch((err: Error) => {
      throw new Error(`${err.message}\nsealer log:\n${sealer.proc.lines.slice(-15).join('\n')}`);
    });
    const verify = runCli(['ledger', 'verify', '--tenant', tenant], env);
    const code = await verify.exited;
    assert.is(code, 0, verify.lines.join('\n'));
    console.log(`\n${figures.map((f) => `    ${f}`).join('\n')}`);
  } finally {
    if (load) await load.stop();
    agent?.close();
    await Promise.all([api, ingress, sealer].map((p) => p.stop().catch(() => {})));
    await nc.close();
    await nats.stop();
  }
});

test.run();
