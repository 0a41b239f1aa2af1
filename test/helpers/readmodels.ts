import { join } from 'node:path';
import { Level } from 'level';
import type { NatsConnection } from '@nats-io/transport-node';
import { PROJECTIONS } from '../../projections/index.ts';
import { EventLog } from '../../src/log/mod.ts';
import { createLogger } from '../../src/logger.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { Projector } from '../../src/projector/projector.ts';
import { natsFixture, tempDir } from './nats.ts';

/** A real nats-server, an EventLog, a LevelDB in a temp folder and a started projector. */
export async function readModelFixture(): Promise<{
  nc: NatsConnection;
  log: EventLog;
  db: Level<string, unknown>;
  projector: Projector;
  /** Stops the projector and closes LevelDB, keeping the data (for a restart). */
  stopProjector(): Promise<void>;
  /** Opens LevelDB again and starts a new projector on it. */
  restartProjector(): Promise<Projector>;
  cleanup(): Promise<void>;
}> {
  const nats = await natsFixture();
  const dir = await tempDir('stk-level-');
  const nc = await connectNats({ servers: nats.url });
  const log = await EventLog.connect(nc);
  const logger = createLogger({ level: 'warn' });
  let db = new Level<string, unknown>(join(dir.path, 'level'), { valueEncoding: 'json' });
  await db.open();
  let projector = await Projector.open(db, log, PROJECTIONS, { durableName: 'projector_test', logger });
  await projector.start();
  const f = {
    nc,
    log,
    get db() {
      return db;
    },
    get projector() {
      return projector;
    },
    async stopProjector() {
      await projector.stop();
      await db.close();
    },
    async restartProjector() {
      db = new Level<string, unknown>(join(dir.path, 'level'), { valueEncoding: 'json' });
      await db.open();
      projector = await Projector.open(db, log, PROJECTIONS, { durableName: 'projector_test', logger });
      await projector.start();
      return projector;
    },
    async cleanup() {
      await projector.stop().catch(() => {});
      await db.close().catch(() => {});
      log.close();
      await nc.close().catch(() => {});
      await nats.stop();
      await dir.cleanup();
    },
  };
  return f;
}
