import { Agent, request } from 'node:https';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '../../src/nats/connect.ts';
import { EventLog } from '../../src/log/mod.ts';
import { createLogger } from '../../src/logger.ts';
import { execute } from '../../src/domain/execute.ts';
import type { Product } from '../../src/domain/products.ts';
import { newId } from '../../src/ids.ts';
import { mintSecret } from '../../src/tenancy/secrets.ts';
import { startIngress, type Ingress, type IngressOptions } from '../../src/ingress/role.ts';
import { AgentClient, type IngressResponse } from '../../src/agent/client.ts';
import { tenantDecider } from '../../commands/tenants/decider.ts';
import { agentDecider } from '../../commands/agents/decider.ts';
import { agentCommandDecider } from '../../commands/agent-commands/decider.ts';
import { natsFixture, tempDir } from '../helpers/nats.ts';
import { ANY_CONTEXT } from '../helpers/events.ts';

const ADMIN = { kind: 'operator' as const, id: 'admin' };

/** A real nats-server, the event log and a listening ingress on a free loopback port. */
export interface IngressFixture {
  nats: Awaited<ReturnType<typeof natsFixture>>;
  nc: NatsConnection;
  log: EventLog;
  ingress: Ingress;
  url: string;
  caPem: string;
  dir: string;
  close(): Promise<void>;
}

export async function ingressFixture(o: Partial<IngressOptions> = {}): Promise<IngressFixture> {
  const nats = await natsFixture();
  const dir = await tempDir('stk-ingress-');
  let nc: NatsConnection | undefined;
  try {
    nc = await connectNats({ servers: nats.url });
    const log = await EventLog.connect(nc);
    const ingress = await startIngress({
      log,
      logger: createLogger({ level: process.env.STOCKADE_TEST_LOG ?? 'silent' }),
      pkiDir: join(dir.path, 'pki'),
      host: '127.0.0.1',
      port: 0,
      enrollRateLimit: { max: 100_000, timeWindowMs: 60_000 },
      // One issuing thread: the worker path is exercised, without a thread per core per fixture.
      issuerThreads: 1,
      ...o,
    });
    const conn = nc;
    return {
      nats,
      nc: conn,
      log,
      ingress,
      url: ingress.url,
      caPem: ingress.ca.certificatePem,
      dir: dir.path,
      async close() {
        await ingress.close().catch(() => {});
        await conn.close().catch(() => {});
        await nats.stop();
        await dir.cleanup();
      },
    };
  } catch (err) {
    await nc?.close().catch(() => {});
    await nats.stop();
    await dir.cleanup();
    throw err;
  }
}

/** A fresh tenant with the given products on; returns its id and its enrollment secret. */
/** Another process on the same log (the operator API): its own NATS connection, its own caches. */
export async function otherProcess(f: IngressFixture): Promise<{ log: EventLog; close(): Promise<void> }> {
  const nc = await connectNats({ servers: f.nats.url });
  const log = await EventLog.connect(nc, { skipEnsureStream: true });
  return {
    log,
    async close() {
      log.close();
      await nc.close();
    },
  };
}

export async function createTenant(log: EventLog, products: Product[] = []): Promise<{ tenant: string; secret: string }> {
  const tenant =
    't-' +
    newId()
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 12);
  const s = mintSecret('enroll');
  await execute(
    log,
    { tenant: tenant, id: tenant },
    tenantDecider,
    { kind: 'create', name: tenant, secret: { lookup: s.lookup, hash: s.hash } },
    { actor: ADMIN, known: 'new' },
  );
  for (const product of products) await setProduct(log, tenant, product, true);
  return { tenant, secret: s.secret };
}

export async function setProduct(log: EventLog, tenant: string, product: Product, enabled: boolean): Promise<void> {
  await execute(log, { tenant: tenant, id: tenant }, tenantDecider, { kind: 'set-product', product, enabled }, { actor: ADMIN });
}

/** Rotates a tenant's secret; returns the new one. */
export async function rotateSecret(log: EventLog, tenant: string): Promise<string> {
  const s = mintSecret('enroll');
  await execute(log, { tenant: tenant, id: tenant }, tenantDecider, { kind: 'rotate-secret', secret: { lookup: s.lookup, hash: s.hash } }, { actor: ADMIN });
  return s.secret;
}

export async function suspendTenant(log: EventLog, tenant: string): Promise<void> {
  await execute(log, { tenant: tenant, id: tenant }, tenantDecider, { kind: 'suspend', reason: 'test' }, { actor: ADMIN });
}

export async function revokeAgent(log: EventLog, tenant: string, agentId: string): Promise<void> {
  await execute(log, { tenant: tenant, id: agentId }, agentDecider, { kind: 'revoke', reason: 'test' }, { actor: ADMIN });
}

/** Dispatches a command the way the operator API does; returns its id. */
export async function dispatch(log: EventLog, tenant: string, agentId: string, action = 'ping', args: Record<string, unknown> = {}): Promise<string> {
  const id = newId();
  await execute(
    log,
    { tenant: tenant, id: id },
    agentCommandDecider,
    { kind: 'dispatch', command: { agentId, action, args }, context: ANY_CONTEXT },
    { actor: ADMIN, known: 'new' },
  );
  return id;
}

/** Enrolls an agent with the reference client. */
export function enroll(f: IngressFixture, secret: string): Promise<AgentClient> {
  return AgentClient.enroll({ url: f.url, caPem: f.caPem, secret, hostname: 'host-1', os: 'linux', agentVersion: '1.0.0' });
}

/** A TLS client presenting `cert`/`key` (or none), trusting the install's CA. */
export function tlsClient(caPem: string, cert?: string, key?: string): Agent {
  return new Agent({ ca: caPem, ...(cert && key ? { cert, key } : {}), keepAlive: false });
}

/** Sends raw bytes (malformed JSON, oversized bodies) with the given content type. */
export function rawCall(
  agent: Agent,
  url: string,
  method: string,
  path: string,
  body: string | Buffer,
  contentType = 'application/json',
): Promise<IngressResponse> {
  const payload = Buffer.isBuffer(body) ? body : Buffer.from(body);
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), { method, agent, headers: { 'content-type': contentType, 'content-length': payload.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // keep the text
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

export const heartbeat = (inventory: Record<string, unknown> = { os: 'linux' }) => ({
  kind: 'heartbeat' as const,
  at: new Date().toISOString(),
  data: { inventory },
});
export const alert = (title = 'suspicious child process') => ({
  kind: 'alert' as const,
  at: new Date().toISOString(),
  data: { rule: 'edr.child', severity: 'high', title },
});
