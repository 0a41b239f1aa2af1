import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { AgentClient } from '../../src/agent/client.ts';
import { AGENT_CERTS_BUCKET, RENEW_GRACE_MS } from '../../src/ingress/certificates.ts';
import { startIngress } from '../../src/ingress/role.ts';
import { createLogger } from '../../src/logger.ts';
import { AgentEvents, type CertificateRenewed } from '../../commands/agents/events.ts';
import { rejects } from '../helpers/assert.ts';
import { createTenant, enroll, heartbeat, ingressFixture } from './fixture.ts';

/**
 * A renewal retires the certificate it replaced: a copy of an agent's older key and certificate
 * (a backup, a stolen disk) stops talking for it. The certificate that asked keeps working only
 * until the new one is used — the renewal's answer may have been lost — and at most
 * RENEW_GRACE_MS; every ingress of the install agrees.
 */
const test = suite('ingress: renewed certificates retire the ones they replace');

/** A client that keeps presenting the certificate `agent` holds now, whatever `agent` does later. */
const frozen = (agent: AgentClient, url?: string): AgentClient => new AgentClient({ ...agent.state, ...(url ? { url } : {}) });

test('the old certificate works until the new one is used, then never again; a refusal writes nothing', async () => {
  const f = await ingressFixture();
  const clients: AgentClient[] = [];
  try {
    const { tenant, secret } = await createTenant(f.log);
    const agent = await enroll(f, secret);
    const old = frozen(agent);
    clients.push(agent, old);
    assert.is((await old.report([heartbeat()])).status, 202);
    await agent.renew();

    // The answer may not have reached the agent: what asked for the renewal still works...
    assert.is((await old.report([heartbeat()])).status, 202, 'the replaced certificate works while the new one was never used');
    // ...until the new certificate is used.
    assert.is((await agent.report([heartbeat()])).status, 202);
    const before = await f.log.lastPosition();
    await rejects(old.report([heartbeat()]), 'STK_ERR_AGENT_CERT_INVALID');
    await rejects(old.commands(), 'STK_ERR_AGENT_CERT_INVALID');
    assert.is(await f.log.lastPosition(), before, 'a refused request writes no event');
    assert.is((await agent.report([heartbeat()])).status, 202, 'the agent itself goes on');

    const renewed = (await f.log.readAggregate({ tenant, aggregateType: 'agent', aggregateId: agent.agentId })).events.find(
      (e) => e.type === AgentEvents.certificateRenewed,
    );
    assert.ok((renewed?.data as CertificateRenewed | undefined)?.replaces, 'the renewal names the certificate it replaced');
  } finally {
    for (const c of clients) c.close();
    await f.close();
  }
});

test('an unused renewal lets the old certificate work for the grace period only', async () => {
  let nowMs = Date.now();
  const f = await ingressFixture({ now: () => new Date(nowMs) });
  const clients: AgentClient[] = [];
  try {
    const { secret } = await createTenant(f.log);
    const agent = await enroll(f, secret);
    const old = frozen(agent);
    clients.push(agent, old);
    await agent.renew();
    nowMs += RENEW_GRACE_MS - 60_000;
    assert.is((await old.report([heartbeat()])).status, 202, 'inside the grace period');
    nowMs += 120_000;
    await rejects(old.report([heartbeat()]), 'STK_ERR_AGENT_CERT_INVALID');
    await rejects(old.renew(), 'STK_ERR_AGENT_CERT_INVALID');
  } finally {
    for (const c of clients) c.close();
    await f.close();
  }
});

test('a renewal whose answer was lost: the old certificate renews again, and the certificate nobody received is retired', async () => {
  const f = await ingressFixture();
  const clients: AgentClient[] = [];
  try {
    const { secret } = await createTenant(f.log);
    const agent = await enroll(f, secret);
    const old = frozen(agent);
    clients.push(agent, old);
    await agent.renew();
    // The agent never saw that answer: it still holds the old certificate and renews with it.
    const lost = frozen(agent);
    clients.push(lost);
    await old.renew();
    assert.is((await old.report([heartbeat()])).status, 202, 'the second renewal is the certificate the agent holds');
    await rejects(lost.report([heartbeat()]), 'STK_ERR_AGENT_CERT_INVALID');
  } finally {
    for (const c of clients) c.close();
    await f.close();
  }
});

test('every ingress agrees: a renewal through one retires the old certificate at another that had it cached', async () => {
  const f = await ingressFixture();
  const second = await startIngress({
    log: f.log,
    logger: createLogger({ level: 'silent' }),
    pkiDir: join(f.dir, 'pki'),
    host: '127.0.0.1',
    port: 0,
    issuerThreads: 1,
  });
  const clients: AgentClient[] = [];
  try {
    const { secret } = await createTenant(f.log);
    const agent = await enroll(f, secret);
    const oldAtSecond = frozen(agent, second.url);
    clients.push(agent, oldAtSecond);
    // The second ingress knows the agent with its first certificate.
    assert.is((await oldAtSecond.report([heartbeat()])).status, 202);
    await agent.renew();
    assert.is((await agent.report([heartbeat()])).status, 202);
    await rejects(oldAtSecond.report([heartbeat()]), 'STK_ERR_AGENT_CERT_INVALID');
    const newAtSecond = frozen(agent, second.url);
    clients.push(newAtSecond);
    assert.is((await newAtSecond.report([heartbeat()])).status, 202, 'the new certificate works at every ingress');
  } finally {
    for (const c of clients) c.close();
    await second.close();
    await f.close();
  }
});

test('an agent the certificate index does not know (older install, lost bucket) is judged by its events', async () => {
  const f = await ingressFixture();
  const clients: AgentClient[] = [];
  try {
    const { tenant, secret } = await createTenant(f.log);
    const agent = await enroll(f, secret);
    const old = frozen(agent);
    clients.push(agent, old);
    await agent.renew();
    assert.is((await agent.report([heartbeat()])).status, 202);
    const kv = await f.log.streams.bucket(AGENT_CERTS_BUCKET);
    await kv.purge(`${tenant}.${agent.agentId}`);
    // A fresh ingress: nothing cached, nothing in the bucket.
    const fresh = await startIngress({
      log: f.log,
      logger: createLogger({ level: 'silent' }),
      pkiDir: join(f.dir, 'pki'),
      host: '127.0.0.1',
      port: 0,
      issuerThreads: 1,
    });
    try {
      const oldThere = frozen(old, fresh.url);
      const newThere = frozen(agent, fresh.url);
      clients.push(oldThere, newThere);
      await rejects(oldThere.report([heartbeat()]), 'STK_ERR_AGENT_CERT_INVALID');
      assert.is((await newThere.report([heartbeat()])).status, 202, 'the newest certificate of its events');
      assert.ok(await kv.get(`${tenant}.${agent.agentId}`), 'written back');
    } finally {
      await fresh.close();
    }
  } finally {
    for (const c of clients) c.close();
    await f.close();
  }
});

test.run();
