import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent } from 'node:https';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentClient, call, type IngressResponse, type WireEvent } from '../../src/agent/client.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { EventLog } from '../../src/log/mod.ts';
import { natsFixture } from '../helpers/nats.ts';
import { RoleProcess, adminApi, lastRecordOf, ledgerCovers } from '../faults/harness.ts';

const test = suite('backpressure end to end: the ingress sheds load while sealing is behind');

const alerts = (n: number, tag: string): WireEvent[] =>
  Array.from({ length: n }, (_, i) => ({ kind: 'alert', at: new Date().toISOString(), data: { rule: 'edr.bp', severity: 'low', title: `${tag} ${i}` } }));

test('503 with Retry-After and nothing written while over the bound; the same batch lands once when sealing catches up', async () => {
  const nats = await natsFixture();
  const env = { NATS_URL: nats.url };
  const api = await RoleProcess.create('api', env);
  const ingress = await RoleProcess.create('ingress', env, { STOCKADE_MAX_SEAL_LAG: '20', STOCKADE_LAG_REFRESH_MS: '0' });
  const sealer = await RoleProcess.create('sealer', env, { STOCKADE_LEDGER_BLOCK_MAX_MS: '50' });
  const nc = await connectNats({ servers: nats.url });
  let client: AgentClient | undefined;
  let raw: Agent | undefined;
  try {
    await Promise.all([api.start(), ingress.start(), sealer.start()]);
    const admin = await adminApi(api);
    const tenant = `bp-${Date.now().toString(36)}`;
    const created = await admin('POST', '/api/v1/tenants', { id: tenant, name: 'Backpressure' });
    assert.is((await admin('PUT', `/api/v1/tenants/${tenant}/products/edr`, { enabled: true })).status, 200);
    const caPem = await readFile(join(ingress.dir, 'pki', 'ca.crt'), 'utf8');
    client = await AgentClient.enroll({
      url: ingress.info.ingress!,
      caPem,
      secret: created.body.enrollSecret,
      hostname: 'bp-01',
      os: 'linux',
      agentVersion: '1.0.0',
    });
    // Sealing stops: its consumers stay, and their backlog grows with every report.
    await sealer.stop();

    raw = new Agent({ ca: client.state.caPem, cert: client.state.certPem, key: client.state.keyPem, keepAlive: true });
    let refused: IngressResponse | null = null;
    let refusedBatch = '';
    let refusedEvents: WireEvent[] = [];
    for (let b = 0; b < 100 && !refused; b++) {
      const before = await lastRecordOf(nc, tenant);
      const events = alerts(10, `batch ${b}`);
      const r = await call(raw, ingress.info.ingress!, 'POST', '/agent/v1/report', { agentId: client.agentId, batchId: `bp-${b}`, events });
      if (r.status === 503) {
        refused = r;
        refusedBatch = `bp-${b}`;
        refusedEvents = events;
        assert.is(await lastRecordOf(nc, tenant), before, 'a refused batch writes no event');
      } else {
        assert.is(r.status, 202, JSON.stringify(r.body));
      }
    }
    if (!refused) throw new Error('the ingress never refused although the backlog passed the bound');
    assert.is(refused.body.error.code, 'STK_ERR_UNAVAILABLE');
    assert.ok(Number(refused.headers['retry-after']) > 0, 'Retry-After is set');

    // The reference agent resends the refused batch; it lands once sealing has caught up.
    await sealer.start();
    const ok = await client.report(refusedEvents, refusedBatch);
    assert.is(ok.status, 202);
    const again = await client.report(refusedEvents, refusedBatch);
    assert.is(again.status, 202, 'a resend of an accepted batch is accepted without writing');

    const last = await lastRecordOf(nc, tenant);
    await ledgerCovers(nc, tenant, last);
    const log = await EventLog.connect(nc, { skipEnsureStream: true });
    const ids = (await log.readTenant(tenant))
      .flatMap((r) => r.events)
      .filter((e) => e.type === 'alert.raised')
      .map((e) => e.id);
    log.close();
    assert.is(new Set(ids).size, ids.length, 'no duplicate events');
  } finally {
    raw?.destroy();
    client?.close();
    await Promise.all([api, ingress, sealer].map((p) => p.stop().catch(() => {})));
    await nc.close();
    await nats.stop();
  }
});

test.run();
