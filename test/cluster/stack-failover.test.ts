import { jetstreamManager } from '@nats-io/jetstream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AgentClient } from '../../src/agent/client.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { EventLog, EVENTS_STREAM } from '../../src/log/mod.ts';
import { clusterFixture } from '../helpers/nats.ts';
import { readToken } from '../helpers/events.ts';
import { runCli } from '../helpers/proc.ts';
import { RoleProcess, SteadyLoad, lastRecordOf, ledgerCovers, onboardAgent, readWhenCaughtUp } from '../faults/harness.ts';

const test = suite('3-node cluster: the whole stack through a stream leader failover');

test('steady agent ingest, the EVENTS leader killed: ingest resumes, nothing lost or doubled, read models count once, the ledger verifies', async () => {
  const cluster = await clusterFixture();
  const env = { NATS_URL: cluster.urls.join(','), STOCKADE_REPLICAS: '3' };
  const api = await RoleProcess.create('api', env);
  const ingress = await RoleProcess.create('ingress', env);
  const sealer = await RoleProcess.create('sealer', env, { STOCKADE_LEDGER_BLOCK_MAX_MS: '100' });
  const nc = await connectNats({ servers: cluster.urls });
  let agent: AgentClient | undefined;
  let load: SteadyLoad | undefined;
  try {
    // The API creates EVENTS (R3) before the others need it.
    await api.start();
    await Promise.all([ingress.start(), sealer.start()]);
    const onboarded = await onboardAgent(api, ingress, 'cluster');
    const { tenant, admin } = onboarded;
    agent = onboarded.agent;
    load = new SteadyLoad(agent);
    load.start();
    for (let i = 0; i < 20; i++) await load.nextAck();

    const log = await EventLog.connect(nc, { skipEnsureStream: true, transientRetryMs: 30_000 });
    const info = await (await jetstreamManager(nc)).streams.info(EVENTS_STREAM);
    assert.is(info.config.num_replicas, 3);
    const leader = info.cluster!.leader!;
    const index = cluster.servers.findIndex((s) => s.options.serverName === leader);
    const killedAt = Date.now();
    await cluster.servers[index]!.kill();
    for (let i = 0; i < 20; i++) await load.nextAck();
    await load.stop();
    const gaps = load.ackTimes.filter((t) => t > killedAt).map((t, i, a) => t - (i ? a[i - 1]! : killedAt));
    console.log(`    EVENTS leader ${leader} killed; longest pause between acknowledged batches ${Math.max(...gaps)} ms; ${load.acked} events acknowledged`);
    assert.equal(load.failures, []);

    const last = await lastRecordOf(nc, tenant);
    const ids = (await log.readTenant(tenant))
      .flatMap((r) => r.events)
      .filter((e) => e.type === 'alert.raised')
      .map((e) => e.id);
    assert.is(new Set(ids).size, ids.length, 'no event stored twice');
    assert.is(ids.length, load.acked, 'every acknowledged event stored');
    const overview = await readWhenCaughtUp(admin, `/api/v1/tenants/${tenant}/overview`, await readToken(log.streams, tenant, last));
    log.close();
    assert.is(overview.body.alerts.open, load.acked, 'read models count each event once');
    await ledgerCovers(nc, tenant, last);
    // The auditor's replay runs once the killed node is back, as an audit would: what it proves
    // (nothing edited, removed or reordered through the failover) does not depend on when it runs.
    await cluster.restart(index);
    const verify = runCli(['ledger', 'verify', '--tenant', tenant], { NATS_URL: cluster.urls.join(',') });
    assert.is(await verify.exited, 0, verify.lines.join('\n'));
  } finally {
    if (load) await load.stop();
    agent?.close();
    await Promise.all([api, ingress, sealer].map((p) => p.stop().catch(() => {})));
    await nc.close();
    await cluster.stopAll();
  }
});

test.run();
