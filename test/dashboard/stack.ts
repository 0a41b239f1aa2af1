import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentClient } from '../../src/agent/client.ts';
import { loadConfig } from '../../src/config/mod.ts';
import { createLogger } from '../../src/logger.ts';
import { freePort } from '../../src/nats/server.ts';
import { startStockade, type Stockade } from '../../src/serve.ts';
import { tempDir } from '../helpers/nats.ts';

/** A real Stockade (every role, embedded nats-server) on free loopback ports and a temp data folder. */
export async function stockadeFixture(
  o: { role?: string; natsUrl?: string; adminKey?: string; ingressHost?: string; env?: Record<string, string> } = {},
): Promise<{ stk: Stockade; base: string; adminKey: string; caPem(): Promise<string>; dataDir: string; close(): Promise<void> }> {
  const dir = await tempDir('stk-ui-');
  try {
    // Several API processes of one install share the admin key, as they would behind a load balancer.
    if (o.adminKey) await writeFile(join(dir.path, 'admin.key'), `${o.adminKey}\n`, { mode: 0o600 });
    const config = loadConfig(
      {
        data: dir.path,
        http: `127.0.0.1:${await freePort()}`,
        // An agent in a test's network namespace reaches the ingress on the machine's side of its veth pair.
        ingress: `${o.ingressHost ?? '127.0.0.1'}:${await freePort(o.ingressHost)}`,
        ...(o.role ? { role: o.role } : {}),
        ...(o.natsUrl ? { natsUrl: o.natsUrl } : {}),
      },
      o.env ?? {},
    );
    const stk = await startStockade(config, { logger: createLogger({ level: process.env.STOCKADE_TEST_LOG ?? 'warn' }) });
    return {
      stk,
      base: stk.apiUrl!,
      adminKey: stk.runtime.adminKey,
      dataDir: dir.path,
      caPem: () => readFile(join(dir.path, 'pki', 'ca.crt'), 'utf8'),
      async close() {
        await stk.close();
        await dir.cleanup();
      },
    };
  } catch (err) {
    await dir.cleanup();
    throw err;
  }
}

/** Calls the operator API with a Bearer credential. */
export async function apiCall(base: string, credential: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${credential}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Enrolls a reference agent through the real ingress with a tenant's enrollment secret. */
export async function enrollAgent(f: { stk: Stockade; caPem(): Promise<string> }, secret: string, hostname: string): Promise<AgentClient> {
  return AgentClient.enroll({ url: f.stk.ingressUrl!, caPem: await f.caPem(), secret, hostname, os: 'linux 6.1', agentVersion: '1.0.0' });
}

/** A fresh tenant id for one test. */
export function freshTenant(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
}
