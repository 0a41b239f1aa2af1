import { dataDirOf } from '../config/mod.ts';
import type { Command } from 'commander';
import { Level } from 'level';
import { LEVEL_OPTIONS } from '../store/store.ts';
import { PROJECTIONS } from '../../projections/index.ts';
import { dataPaths, lockDataDir } from '../datadir.ts';
import { EventLog } from '../log/mod.ts';
import { createLogger } from '../logger.ts';
import { readModelLifecycle } from '../lifecycle/readmodels.ts';
import { openPrivacy } from '../privacy/mod.ts';
import { Projector } from '../projector/projector.ts';
import { adminApi } from './admin-api.ts';
import { connectBus } from './bus.ts';

/**
 * `stockade projections rebuild|status`. With an install running on `--data`, the rebuild runs
 * inside it (LevelDB belongs to one process) and queries keep answering from the old models until
 * the new ones are swapped in. With none running, it opens the data folder itself (NATS_URL needed).
 */
export function registerProjections(program: Command): void {
  const cmd = program.command('projections').description('read models: rebuild from the event log, show position and lag');
  cmd
    .command('rebuild')
    .description('replay EVENTS into fresh read models and swap them in without downtime')
    .option('--model <model>', `one model (${PROJECTIONS.map((p) => p.model).join(', ')}); all by default`)
    .option('--data <dir>', 'data folder (STOCKADE_DATA)')
    .option('--nats-url <urls>', 'NATS servers, when no install is running (NATS_URL)')
    .action(async (opts: { model?: string; data?: string; natsUrl?: string }) => {
      const api = await adminApi(opts.data);
      const r = api
        ? await api.call('POST', '/admin/projections/rebuild', opts.model ? { model: opts.model } : {})
        : await offline(opts, (p) => p.rebuild(opts.model ? [opts.model] : undefined));
      console.log(
        `rebuilt ${r.models.join(', ')}: ${r.events} events up to position ${r.position} in ${r.seconds.toFixed(2)} s (${Math.round(r.events / Math.max(r.seconds, 1e-9))} events/s)`,
      );
    });
  cmd
    .command('status')
    .description('position of the read models and their lag behind the event log')
    .option('--data <dir>', 'data folder (STOCKADE_DATA)')
    .option('--nats-url <urls>', 'NATS servers, when no install is running (NATS_URL)')
    .action(async (opts: { data?: string; natsUrl?: string }) => {
      const api = await adminApi(opts.data);
      const r = api ? await api.call('GET', '/admin/projections') : await offline(opts, (p) => p.lag());
      console.log(JSON.stringify(r, null, 2));
    });
}

async function offline<T>(opts: { data?: string; natsUrl?: string }, fn: (p: Projector) => Promise<T>): Promise<T> {
  const dataDir = dataDirOf(opts.data);
  const lock = await lockDataDir(dataDir);
  const bus = await connectBus({ ...opts, name: 'stockade-projections' });
  const db = new Level<string, unknown>(dataPaths(dataDir).level, LEVEL_OPTIONS);
  // The read models hold personal fields readable, as the serving projector writes them.
  const privacy = await openPrivacy(bus.streams);
  try {
    await db.open();
    const log = await EventLog.open(bus.streams, { skipEnsureStream: true, fields: privacy.cipher });
    const p = await Projector.open(db, log, PROJECTIONS, {
      durableName: 'projector_offline',
      logger: createLogger({ level: 'warn' }),
      lifecycle: readModelLifecycle(privacy.keys),
    });
    return await fn(p);
  } finally {
    privacy.close();
    await db.close().catch(() => {});
    await bus.close();
    lock.release();
  }
}
