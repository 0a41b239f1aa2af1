import type { NatsConnection } from '@nats-io/transport-node';
import { Streams } from '../../src/log/mod.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsCluster, startNatsServer, type NatsCluster, type NatsServer, type NatsServerOptions } from '../../src/nats/server.ts';

/** A temp folder removed by `cleanup()`. */
export async function tempDir(prefix = 'stk-test-'): Promise<{ path: string; cleanup(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** A real nats-server on a free loopback port with a temp store; `stop()` also removes the store. */
export async function natsFixture(
  extra: Partial<NatsServerOptions> = {},
): Promise<{ server: NatsServer; url: string; dir: string; stop(): Promise<void>; restart(): Promise<NatsServer> }> {
  const dir = await tempDir('stk-nats-');
  let server = await startNatsServer({ storeDir: join(dir.path, 'store'), ...extra });
  const fixture = {
    get server() {
      return server;
    },
    url: server.url,
    dir: dir.path,
    async stop() {
      await server.stop();
      await dir.cleanup();
    },
    /** Stops (if running) and starts the server again on the same port and store. */
    async restart() {
      await server.stop();
      server = await startNatsServer({ ...server.options });
      return server;
    },
  };
  return fixture;
}

/** A real 3-node JetStream cluster on loopback with temp stores. */
export async function clusterFixture(): Promise<NatsCluster & { dir: string; stopAll(): Promise<void> }> {
  const dir = await tempDir('stk-cluster-');
  const cluster = await startNatsCluster(dir.path, 3);
  return Object.assign(cluster, {
    dir: dir.path,
    async stopAll() {
      await cluster.stop();
      await dir.cleanup();
    },
  });
}

const doors = new WeakMap<NatsConnection, Promise<Streams>>();

/** The door to JetStream on a test's connection (one per connection, closed with the process). */
export function doorOf(nc: NatsConnection): Promise<Streams> {
  let d = doors.get(nc);
  if (!d) {
    d = Streams.open(nc);
    doors.set(nc, d);
  }
  return d;
}
