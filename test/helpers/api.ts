import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Level } from 'level';
import type { NatsConnection } from '@nats-io/transport-node';
import { operatorApi } from '../../src/api/plugin.ts';
import { openReadModels } from '../../src/projector/role.ts';
import { loadConfig } from '../../src/config/mod.ts';
import { Health } from '../../src/health.ts';
import { buildApiApp, type ApiPlugin } from '../../src/http/api.ts';
import { EventLog, Streams } from '../../src/log/mod.ts';
import { openPrivacy, type Privacy } from '../../src/privacy/mod.ts';
import { createLogger } from '../../src/logger.ts';
import { Metrics } from '../../src/metrics.ts';
import { connectNats } from '../../src/nats/connect.ts';
import type { Runtime } from '../../src/runtime.ts';
import { natsFixture, tempDir } from './nats.ts';

/**
 * A process as `serve --role api,projector` builds it, assembled here from the runtime parts so
 * that the operator API is tested on its own: real NATS, real LevelDB, real HTTP.
 */
export interface Stockade {
  runtime: Runtime;
  app: FastifyInstance;
  apiUrl: string;
  close(): Promise<void>;
}

async function startApi(dataDir: string, natsUrl: string, plugins: ApiPlugin[], withPrivacy: boolean): Promise<Stockade> {
  const config = loadConfig({ data: dataDir, natsUrl, http: '127.0.0.1:0', role: 'api,projector' }, {});
  const logger = createLogger({ level: process.env.STK_TEST_LOG ?? 'silent' });
  const nc: NatsConnection = await connectNats({ servers: natsUrl });
  const streams = await Streams.open(nc);
  // Field encryption as `serve` runs it, when the suite asks for it.
  const privacy: Privacy | null = withPrivacy ? await openPrivacy(streams) : null;
  const log = await EventLog.open(streams, privacy ? { fields: privacy.cipher } : {});
  const db = new Level<string, unknown>(join(dataDir, 'level'), { valueEncoding: 'json' });
  await db.open();
  const runtime: Runtime = {
    config,
    logger,
    streams: log.streams,
    log,
    db,
    readModels: null,
    metrics: new Metrics(),
    health: new Health(),
    adminKey: `stk_admin_test_${Math.random().toString(36).slice(2)}`,
    privacy,
  };
  let app: FastifyInstance;
  try {
    runtime.readModels = await openReadModels(runtime);
    app = await buildApiApp(runtime, plugins);
  } catch (err) {
    await runtime.readModels?.stop();
    privacy?.close();
    await db.close();
    await nc.close();
    throw err;
  }
  const apiUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    runtime,
    app,
    apiUrl,
    async close() {
      await app.close();
      await runtime.readModels?.stop();
      log.close();
      privacy?.close();
      await db.close();
      await nc.close();
    },
  };
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
}

/** A running Stockade (api + projector roles) on a real nats-server, with an HTTP client. */
export interface ApiFixture {
  stk: Stockade;
  url: string;
  adminKey: string;
  call<T = any>(
    method: string,
    path: string,
    o?: { token?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> },
  ): Promise<ApiResponse<T>>;
  /** Creates a tenant as admin; returns its enrollment secret. */
  tenant(id: string, products?: string[]): Promise<{ enrollSecret: string; consistencyToken: string }>;
  /** Creates a token of a role in a tenant. */
  token(tenant: string, role: 'operator' | 'auditor'): Promise<string>;
  cleanup(): Promise<void>;
}

/**
 * `plugins`: the API plugins to mount (default: the operator API alone; the isolation suite mounts
 * them all). `privacy`: seal personal fields as `serve` does (default off).
 */
export async function apiFixture(o: { plugins?: ApiPlugin[]; privacy?: boolean } = {}): Promise<ApiFixture> {
  const nats = await natsFixture();
  const dir = await tempDir('stk-api-');
  let stk: Stockade | undefined;
  try {
    stk = await startApi(dir.path, nats.url, o.plugins ?? [operatorApi], o.privacy ?? false);
  } catch (err) {
    await nats.stop();
    await dir.cleanup();
    throw err;
  }
  const url = stk.apiUrl;
  const adminKey = stk.runtime.adminKey;
  const call: ApiFixture['call'] = async (method, path, co = {}) => {
    const token = co.token === undefined ? adminKey : co.token;
    const headers: Record<string, string> = { ...(co.headers ?? {}) };
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (co.raw !== undefined) body = co.raw;
    else if (co.body !== undefined) body = JSON.stringify(co.body);
    if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
    const res = await fetch(url + path, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed as any };
  };
  const f: ApiFixture = {
    stk,
    url,
    adminKey,
    call,
    async tenant(id, products = []) {
      const r = await call('POST', '/api/v1/tenants', { body: { id, name: `Tenant ${id}` } });
      if (r.status !== 201) throw new Error(`create tenant ${id}: ${r.status} ${JSON.stringify(r.body)}`);
      let consistencyToken = r.body.consistencyToken as string;
      for (const p of products) {
        const pr = await call('PUT', `/api/v1/tenants/${id}/products/${p}`, { body: { enabled: true } });
        if (pr.status !== 200) throw new Error(`enable ${p}: ${pr.status} ${JSON.stringify(pr.body)}`);
        consistencyToken = pr.body.consistencyToken;
      }
      return { enrollSecret: r.body.enrollSecret, consistencyToken };
    },
    async token(tenant, role) {
      const r = await call('POST', `/api/v1/tenants/${tenant}/tokens`, { body: { role } });
      if (r.status !== 201) throw new Error(`token: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.token;
    },
    async cleanup() {
      await stk!.close();
      await nats.stop();
      await dir.cleanup();
    },
  };
  return f;
}
