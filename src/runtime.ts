import type { Level } from 'level';
import type { Config } from './config/mod.ts';
import type { Health } from './health.ts';
import type { EventLog, Streams } from './log/mod.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import type { Privacy } from './privacy/mod.ts';
import type { ReadModels } from './projector/role.ts';

/** The shared infrastructure of one Stockade process, handed to every role. */
export interface Runtime {
  config: Config;
  logger: Logger;
  /** The door to JetStream: every stream, consumer and KV bucket this process uses. */
  streams: Streams;
  log: EventLog;
  /** The process's LevelDB (read models, checkpoints); opened only by roles that need it. */
  db: Level<string, unknown>;
  /** The read models of this process, opened by `serve` when it runs the api or projector role. */
  readModels: ReadModels | null;
  metrics: Metrics;
  health: Health;
  /** The admin API key (from `<data>/admin.key` or STOCKADE_ADMIN_KEY). */
  adminKey: string;
  /** Field encryption (key store and cipher) when this process seals or reveals personal fields; the log already uses it. */
  privacy?: Privacy | null;
}

/** A started role: something that must be closed on shutdown. */
export interface Started {
  name: string;
  /** Public address, for roles that listen. */
  url?: string;
  close(): Promise<void>;
}
