import { join } from 'node:path';
import { AgentClient } from '../../src/agent/client.ts';
import { posterFor } from '../../src/agent/commands/context.ts';
import { startIngress, type Ingress } from '../../src/ingress/role.ts';
import { createLogger } from '../../src/logger.ts';
import { apiFixture, type ApiFixture } from '../helpers/api.ts';
import { tempDir } from '../helpers/nats.ts';

/** The operator API (with its projectors) and the real mTLS ingress on one event log. */
export interface Stack {
  f: ApiFixture;
  ingress: Ingress;
  close(): Promise<void>;
}

export async function stackFixture(): Promise<Stack> {
  const f = await apiFixture();
  const pki = await tempDir('stk-pki-');
  let ingress: Ingress;
  try {
    ingress = await startIngress({
      log: f.stk.runtime.log,
      logger: createLogger({ level: process.env.STK_TEST_LOG ?? 'silent' }),
      pkiDir: join(pki.path, 'pki'),
      host: '127.0.0.1',
      port: 0,
      issuerThreads: 1,
    });
  } catch (err) {
    await f.cleanup();
    await pki.cleanup();
    throw err;
  }
  return {
    f,
    ingress,
    async close() {
      await ingress.close().catch(() => {});
      await f.cleanup();
      await pki.cleanup();
    },
  };
}

/** An enrolled agent of `tenant` and a poster speaking for it. */
export async function enrolled(s: Stack, enrollSecret: string, hostname = 'host-1') {
  const client = await AgentClient.enroll({
    url: s.ingress.url,
    caPem: s.ingress.ca.certificatePem,
    secret: enrollSecret,
    hostname,
    os: 'linux',
    agentVersion: '1.0.0',
  });
  const poster = posterFor(client.state);
  return {
    client,
    poster,
    close() {
      poster.close();
      client.close();
    },
  };
}

/** Polls `read` until `ok` holds (a projection catching up), failing after a generous deadline. */
export async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`${what}: not reached in ${timeoutMs} ms; last: ${JSON.stringify(v).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
