import { dataDirOf } from '../config/mod.ts';
import { readRunInfo } from '../datadir.ts';
import { StkError } from '../errors.ts';
import { Streams } from '../log/mod.ts';
import { readNatsCredentials, type NatsUser } from '../nats/auth.ts';
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
 * Connects a CLI command to the bus: `--nats-url`/NATS_URL when given (credentials from
 * STOCKADE_NATS_USER/STOCKADE_NATS_PASS, or in the URL), else the running install of `--data`
 * (its run.json), as `user` of the install's generated credentials (the least a command needs:
 * `auditor` to read, `app` to append, `sealer` to seal).
 */
export async function connectBus(
  o: { data?: string; natsUrl?: string; name: string; timeoutMs?: number; user?: NatsUser },
  env: NodeJS.ProcessEnv = process.env,
): Promise<Bus> {
  let servers = parseNatsUrl(o.natsUrl ?? env.NATS_URL ?? '');
  let login: { user: string; pass: string } | null = env.STOCKADE_NATS_USER ? { user: env.STOCKADE_NATS_USER, pass: env.STOCKADE_NATS_PASS ?? '' } : null;
  if (servers.length === 0) {
    const dataDir = dataDirOf(o.data);
    const info = await readRunInfo(dataDir);
    if (!info)
      throw new StkError('STK_ERR_CONFIG', `no NATS_URL and no running install in ${dataDir} (start \`stockade serve --data ${dataDir}\` or set NATS_URL)`, {
        dataDir,
      });
    servers = parseNatsUrl(info.natsUrl);
    const credentials = await readNatsCredentials(dataDir);
    const user = o.user ?? 'app';
    if (credentials && !login) login = { user, pass: credentials.users[user] };
  }
  const nc = await connectNats({ servers, name: o.name, ...(login ? login : {}) });
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
