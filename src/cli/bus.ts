import { dataDirOf } from '../config/mod.ts';
import { readRunInfo } from '../datadir.ts';
import { StkError } from '../errors.ts';
import { Streams } from '../log/mod.ts';
import { connectNats, parseNatsUrl } from '../nats/connect.ts';

/** A CLI command's connection to the bus and its door to JetStream. */
export interface Bus {
  streams: Streams;
  /** The server connected to, for logs. */
  server: string;
  /** Flushes and closes the connection. */
  close(): Promise<void>;
}

/**
 * Connects a CLI command to the bus: `--nats-url`/NATS_URL when given, else the running install
 * of `--data` (its run.json). Credentials come from STOCKADE_NATS_USER/STOCKADE_NATS_PASS.
 */
export async function connectBus(o: { data?: string; natsUrl?: string; name: string; timeoutMs?: number }, env: NodeJS.ProcessEnv = process.env): Promise<Bus> {
  let servers = parseNatsUrl(o.natsUrl ?? env.NATS_URL ?? '');
  if (servers.length === 0) {
    const dataDir = dataDirOf(o.data);
    const info = await readRunInfo(dataDir);
    if (!info)
      throw new StkError('STK_ERR_CONFIG', `no NATS_URL and no running install in ${dataDir} (start \`stockade serve --data ${dataDir}\` or set NATS_URL)`, {
        dataDir,
      });
    servers = parseNatsUrl(info.natsUrl);
  }
  const nc = await connectNats({
    servers,
    name: o.name,
    ...(env.STOCKADE_NATS_USER ? { user: env.STOCKADE_NATS_USER, pass: env.STOCKADE_NATS_PASS ?? '' } : {}),
  });
  const streams = await Streams.open(nc, { timeoutMs: o.timeoutMs ?? 5000, retryMs: 10_000 });
  return {
    streams,
    server: nc.getServer(),
    async close() {
      streams.close();
      await nc.drain().catch(() => nc.close());
    },
  };
}
