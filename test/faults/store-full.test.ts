import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent } from 'node:https';
import { RetentionPolicy, StorageType, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { call, type WireEvent } from '../../src/agent/client.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { EventLog } from '../../src/log/mod.ts';
import { doorOf, natsFixture } from '../helpers/nats.ts';
import { readToken } from '../helpers/events.ts';
import { RoleProcess, SteadyLoad, lastRecordOf, onboardAgent, readWhenCaughtUp } from './harness.ts';

const test = suite('fault suite: the JetStream store fills up and is freed');

const STORE_BYTES = 64 * 1024 * 1024;

test('a full store refuses reports with clean 503s and writes nothing; once freed, the resent batches land once', async () => {
  const nats = await natsFixture({ maxFileStoreBytes: STORE_BYTES });
  const env = { NATS_URL: nats.url };
  const api = await RoleProcess.create('api', env);
  const ingress = await RoleProcess.create('ingress', env);
  const nc = await connectNats({ servers: nats.url });
  let raw: Agent | undefined;
  let load: SteadyLoad | undefined;
  try {
    await api.start();
    await ingress.start();
    const { tenant, admin, agent } = await onboardAgent(api, ingress, 'full');
    raw = new Agent({ ca: agent.state.caPem, cert: agent.state.certPem, key: agent.state.keyPem, keepAlive: true });

    // Someone else's data fills the account's file store to its limit.
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'FILLER', subjects: ['filler.>'], storage: StorageType.File, retention: RetentionPolicy.Limits });
    const js = jetstream(nc);
    const chunk = new Uint8Array(512 * 1024).fill(7);
    let full = false;
    for (let i = 0; i < 2 * (STORE_BYTES / chunk.length) && !full; i++) {
      full = await js.publish(`filler.${i}`, chunk).then(
        () => false,
        () => true,
      );
    }
    assert.ok(full, 'the store filled up');

    const before = await lastRecordOf(nc, tenant);
    const events: WireEvent[] = [{ kind: 'alert', at: new Date().toISOString(), data: { rule: 'edr.full', severity: 'high', title: 'while full' } }];
    const refused = await call(raw, ingress.info.ingress!, 'POST', '/agent/v1/report', { agentId: agent.agentId, batchId: 'while-full', events });
    assert.is(refused.status, 503, JSON.stringify(refused.body));
    assert.is(refused.body.error.code, 'STK_ERR_LOG_UNAVAILABLE');
    assert.ok(Number(refused.headers['retry-after']) > 0);
    assert.is(await lastRecordOf(nc, tenant), before, 'a refused report writes nothing');

    // A steady agent keeps resending through the outage; the store is freed under it.
    load = new SteadyLoad(agent, 2);
    load.start();
    await jsm.streams.delete('FILLER');
    for (let i = 0; i < 5; i++) await load.nextAck();
    const resent = await agent.report(events, 'while-full');
    assert.is(resent.status, 202);
    await load.stop();
    assert.equal(load.failures, []);

    const last = await lastRecordOf(nc, tenant);
    const log = await EventLog.connect(nc, { skipEnsureStream: true });
    const ids = (await log.readTenant(tenant))
      .flatMap((r) => r.events)
      .filter((e) => e.type === 'alert.raised')
      .map((e) => e.id);
    log.close();
    assert.is(new Set(ids).size, ids.length, 'no duplicates');
    assert.is(ids.length, load.acked + 1, 'every acknowledged event, and the refused batch once after its resend');
    const overview = await readWhenCaughtUp(admin, `/api/v1/tenants/${tenant}/overview`, await readToken(await doorOf(nc), tenant, last));
    assert.is(overview.body.alerts.open, load.acked + 1);
    agent.close();
  } finally {
    if (load) await load.stop();
    raw?.destroy();
    await Promise.all([api, ingress].map((p) => p.stop().catch(() => {})));
    await nc.close();
    await nats.stop();
  }
});

test.run();
