import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { isStkError, StkError } from '../errors.ts';

/** Options for a nats-server child. Everything listens on loopback unless `host` says otherwise. */
export interface NatsServerOptions {
  /** JetStream store folder; the generated config file is written beside it. */
  storeDir: string;
  /** Client port; a free loopback port when omitted. */
  port?: number;
  /** @defaultValue 127.0.0.1 */
  host?: string;
  serverName?: string;
  /** JetStream file-store limit in bytes (the server's default when omitted). */
  maxFileStoreBytes?: number;
  /** Cluster membership: this node's route port and the routes of its peers. */
  cluster?: { name: string; port: number; routes: string[] };
  /** Extra configuration text appended verbatim (accounts, authorization). */
  extraConfig?: string;
  /** Environment of the child besides ours (the `$STOCKADE_*_PASS` variables of an accounts block). */
  env?: Record<string, string>;
  /** Called with each line the server logs (for a log file or pino). */
  onLogLine?: (line: string) => void;
  /** How long to wait for "Server is ready". @defaultValue 15000 */
  readyTimeoutMs?: number;
}

/** A running nats-server child. */
export interface NatsServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly options: NatsServerOptions;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL, as a crash would; resolves once it has exited. */
  kill(): Promise<void>;
  /** Resolves on the first log line matching `pattern` (counting lines already seen). */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  readonly exited: boolean;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test that throws or a process that exits must never leave a nats-server behind.
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

/** Finds the nats-server binary: $NATS_SERVER_BIN, then PATH (Debian installs it in /usr/sbin). */
export function natsServerBinary(): string {
  const fromEnv = process.env.NATS_SERVER_BIN;
  if (fromEnv) return fromEnv;
  for (const candidate of ['nats-server', '/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server']) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next place
    }
  }
  throw new StkError('STK_ERR_NATS_SERVER_MISSING', 'nats-server not found: run `sh infra/ensure-nats.sh` (Debian/Ubuntu: apt-get install nats-server)');
}

let setprivPath: string | null | undefined;

/** `setpriv` (util-linux) when this system has one that knows --pdeathsig; otherwise null. */
function deathGuard(): string | null {
  if (setprivPath !== undefined) return setprivPath;
  setprivPath = null;
  for (const candidate of ['/usr/bin/setpriv', '/bin/setpriv']) {
    try {
      execFileSync(candidate, ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore' });
      setprivPath = candidate;
      break;
    } catch {
      // not here, or too old for --pdeathsig
    }
  }
  return setprivPath;
}

/** A TCP port that was free on `host` a moment ago. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function renderConfig(o: Required<Pick<NatsServerOptions, 'storeDir' | 'host'>> & NatsServerOptions, port: number): string {
  const lines = [
    `listen: "${o.host}:${port}"`,
    o.serverName ? `server_name: "${o.serverName}"` : '',
    'jetstream {',
    `  store_dir: ${JSON.stringify(o.storeDir)}`,
    o.maxFileStoreBytes ? `  max_file_store: ${o.maxFileStoreBytes}` : '',
    '}',
  ];
  if (o.cluster) {
    lines.push(
      'cluster {',
      `  name: "${o.cluster.name}"`,
      `  listen: "${o.host}:${o.cluster.port}"`,
      `  routes: [${o.cluster.routes.map((r) => JSON.stringify(r)).join(', ')}]`,
      '}',
    );
  }
  if (o.extraConfig) lines.push(o.extraConfig);
  return `${lines.filter(Boolean).join('\n')}\n`;
}

/**
 * How often a start on ports we picked is tried again when one of them was taken between the
 * pick and nats-server's bind (another process on the machine asked for a free port meanwhile).
 */
const PORT_RACE_ATTEMPTS = 5;

/** True when nats-server could not start because a port it was given was taken. */
function portTaken(err: unknown): boolean {
  if (!isStkError(err, 'STK_ERR_NATS_SERVER_START')) return false;
  const lastLines = Array.isArray(err.data.lastLines) ? (err.data.lastLines as unknown[]) : [];
  return [err.message, ...lastLines].some((l) => typeof l === 'string' && /address already in use/i.test(l));
}

/** Runs a start on freshly picked ports again while it fails on a port taken in between. */
async function retryOnPortTaken<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= PORT_RACE_ATTEMPTS || !portTaken(err)) throw err;
    }
  }
}

/**
 * Starts a nats-server child with JetStream and resolves once it logs that it is ready.
 * The child is killed when this process exits, whatever the reason. Without a given `port`, a
 * free one is picked (and picked again if another process takes it before the server binds it).
 */
export async function startNatsServer(options: NatsServerOptions): Promise<NatsServer> {
  if (options.port !== undefined) return startOnce(options, options.port);
  return retryOnPortTaken(async () => startOnce(options, await freePort(options.host ?? '127.0.0.1')));
}

async function startOnce(options: NatsServerOptions, port: number): Promise<NatsServer> {
  const host = options.host ?? '127.0.0.1';
  const bin = natsServerBinary();
  await mkdir(options.storeDir, { recursive: true });
  const configPath = join(options.storeDir, `..`, `nats-${options.serverName ?? port}.conf`);
  await writeFile(configPath, renderConfig({ ...options, host, storeDir: options.storeDir }, port), { mode: 0o600 });

  installExitHook();
  // Its own process group: a Ctrl-C on the terminal reaches only us, and we stop the child in
  // order (after draining our connection) instead of racing it. And it must not outlive us when we
  // are killed outright (SIGKILL runs no exit hook): util-linux's setpriv asks the kernel to kill
  // it when its parent dies (PR_SET_PDEATHSIG). Acknowledged writes are in the kernel's page
  // cache by then, so a killed nats-server loses none of them.
  const guard = deathGuard();
  const child = spawn(guard ?? bin, guard ? ['--pdeathsig', 'KILL', '--', bin, '-c', configPath] : ['-c', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
  });
  running.add(child);

  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (l: string) => void }> = [];
  let exited = false;
  let exitWaiters: Array<() => void> = [];
  let pending = '';
  const onData = (chunk: Buffer): void => {
    pending += chunk.toString('utf8');
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (lines.length > 500) lines.shift();
      lines.push(line);
      options.onLogLine?.(line);
      for (const w of [...waiters]) {
        if (w.pattern.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  child.on('exit', () => {
    exited = true;
    running.delete(child);
    for (const w of exitWaiters) w();
    exitWaiters = [];
  });

  const waitForExit = (): Promise<void> => (exited ? Promise.resolve() : new Promise((r) => exitWaiters.push(r)));

  const waitForLog = (pattern: RegExp, timeoutMs = 15000): Promise<string> => {
    const seen = lines.find((l) => pattern.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.splice(
          waiters.findIndex((w) => w.resolve === done),
          1,
        );
        reject(new StkError('STK_ERR_NATS_SERVER_START', `nats-server did not log ${pattern} within ${timeoutMs} ms`, { lastLines: lines.slice(-10) }));
      }, timeoutMs);
      const done = (l: string): void => {
        clearTimeout(timer);
        resolve(l);
      };
      waiters.push({ pattern, resolve: done });
      if (exited) {
        clearTimeout(timer);
        reject(new StkError('STK_ERR_NATS_SERVER_START', 'nats-server exited', { lastLines: lines.slice(-10) }));
      }
    });
  };

  // A cluster node logs "ready" before it binds its route port (and exits if that port is taken).
  const readyTimeoutMs = options.readyTimeoutMs ?? 15000;
  const ready = Promise.all([
    waitForLog(/Server is ready/, readyTimeoutMs),
    options.cluster ? waitForLog(/Listening for route connections/, readyTimeoutMs) : undefined,
  ]);
  const died = waitForExit().then(() => {
    throw new StkError('STK_ERR_NATS_SERVER_START', `nats-server exited during start-up: ${lines.slice(-5).join(' | ')}`, {
      lastLines: lines.slice(-10),
      port,
    });
  });
  try {
    await Promise.race([ready, died]);
  } catch (err) {
    child.kill('SIGKILL');
    await waitForExit();
    throw err;
  }
  died.catch(() => {});

  const server: NatsServer = {
    url: `nats://${host}:${port}`,
    port,
    pid: child.pid!,
    options: { ...options, port, host },
    get exited() {
      return exited;
    },
    async stop(graceMs = 10000) {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await waitForExit();
      clearTimeout(timer);
    },
    async kill() {
      if (exited) return;
      child.kill('SIGKILL');
      await waitForExit();
    },
    waitForLog,
  };
  return server;
}

/**
 * Moves the streams a store holds in the global account (`$G`, a server without accounts) into
 * `account`, once: nats-server keeps each account's streams in a folder named after it. True
 * when something was moved.
 */
export async function adoptUnauthenticatedStore(storeDir: string, account: string): Promise<boolean> {
  const from = join(storeDir, 'jetstream', '$G');
  const to = join(storeDir, 'jetstream', account);
  if (!(await exists(from)) || (await exists(to))) return false;
  await rename(from, to);
  return true;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** A 3-node (or n-node) JetStream cluster of children on loopback. */
export interface NatsCluster {
  readonly servers: NatsServer[];
  readonly urls: string[];
  stop(): Promise<void>;
  /** Starts node `i` again with its original ports and store (after a stop or kill). */
  restart(i: number): Promise<NatsServer>;
}

/**
 * Starts an n-node cluster with stores under `baseDir`; resolves once a meta leader is elected.
 * Its ports come from `pickPort`; when one was taken before a node bound it, the nodes that did
 * start are killed and the cluster is started again on new ports.
 */
export async function startNatsCluster(
  baseDir: string,
  nodes = 3,
  extra: Partial<NatsServerOptions> = {},
  pickPort: () => Promise<number> = () => freePort(),
): Promise<NatsCluster> {
  return retryOnPortTaken(() => startClusterOnce(baseDir, nodes, extra, pickPort));
}

async function startClusterOnce(baseDir: string, nodes: number, extra: Partial<NatsServerOptions>, pickPort: () => Promise<number>): Promise<NatsCluster> {
  // Picked at the same time, so that free ports are distinct ones.
  const ports = await Promise.all(Array.from({ length: 2 * nodes }, () => pickPort()));
  const clientPorts = ports.slice(0, nodes);
  const routePorts = ports.slice(nodes);
  const optionsFor = (i: number): NatsServerOptions => ({
    ...extra,
    storeDir: join(baseDir, `n${i}`, 'store'),
    port: clientPorts[i]!,
    serverName: `n${i}`,
    cluster: {
      name: 'stockade',
      port: routePorts[i]!,
      routes: routePorts.filter((_, j) => j !== i).map((p) => `nats-route://127.0.0.1:${p}`),
    },
  });
  const started = await Promise.allSettled(Array.from({ length: nodes }, (_, i) => startOnce(optionsFor(i), clientPorts[i]!)));
  const failed = started.find((r) => r.status === 'rejected');
  const servers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  if (failed) {
    await Promise.all(servers.map((s) => s.kill()));
    throw failed.reason;
  }
  await Promise.race(servers.map((s) => s.waitForLog(/JetStream cluster new metadata leader|Self is new JetStream cluster metadata leader/, 30000)));
  return {
    servers,
    urls: servers.map((s) => s.url),
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
    },
    async restart(i: number) {
      const s = await startOnce(optionsFor(i), clientPorts[i]!);
      servers[i] = s;
      return s;
    },
  };
}
