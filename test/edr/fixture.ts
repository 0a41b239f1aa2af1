/**
 * The EDR end-to-end stack: the operator API with its projectors, the real mTLS ingress, a tenant
 * with its operator token, an enrolled agent folder, a prepared host root, and — for the tests that
 * change a host — a network namespace the test makes (veth pair to the ingress on the host side),
 * in which `stockade agent run` runs.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, symlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { AgentClient, saveAgentState } from '../../src/agent/client.ts';
import { startIngress, type Ingress } from '../../src/ingress/role.ts';
import { createLogger } from '../../src/logger.ts';
import { GROUP, PASSWD, SHADOW, SUDOERS } from '../agent/identity-fixture.ts';
import { writeTree } from '../agent/fixture.ts';
import { apiFixture, type ApiFixture, type ApiResponse } from '../helpers/api.ts';
import { freshTenant } from '../helpers/events.ts';
import { tempDir } from '../helpers/nats.ts';
import { pickSubnet } from '../helpers/samba.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

/** Waits until `check` gives a value (not null/undefined/false), asking again after each answer; fails after `timeoutMs`. */
export async function until<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== null && v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
    // Asked again at once would only load the busy machine: the API is polled every 100 ms.
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A network namespace with a veth pair to the machine: `hostAddress` on the machine's side, `nsAddress` inside. */
export interface Netns {
  name: string;
  hostAddress: string;
  nsAddress: string;
  exec(cmd: string, args: string[]): Promise<string>;
  remove(): Promise<void>;
}

/** Makes a namespace and its /30 veth pair; `remove()` deletes both (and anything left in it). */
export async function makeNetns(label: string): Promise<Netns> {
  const tag = randomBytes(3).toString('hex');
  const name = `stk-${label}-${tag}`;
  const hostVeth = `stk${label.slice(0, 3)}${tag}h`;
  const nsVeth = `stk${label.slice(0, 3)}${tag}n`;
  const { hostAddress, dcAddress: nsAddress } = await pickSubnet();
  const removeAll = async (): Promise<void> => {
    const pids = (await run('ip', ['netns', 'pids', name]).catch(() => ({ stdout: '' }))).stdout.split(/\s+/).filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await run('ip', ['netns', 'del', name]).catch(() => undefined);
    await run('ip', ['link', 'del', hostVeth]).catch(() => undefined);
  };
  try {
    await run('ip', ['netns', 'add', name]);
    await run('ip', ['link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', nsVeth]);
    await run('ip', ['link', 'set', nsVeth, 'netns', name]);
    await run('ip', ['addr', 'add', `${hostAddress}/30`, 'dev', hostVeth]);
    await run('ip', ['link', 'set', hostVeth, 'up']);
    await run('ip', ['-n', name, 'addr', 'add', `${nsAddress}/30`, 'dev', nsVeth]);
    await run('ip', ['-n', name, 'link', 'set', nsVeth, 'up']);
    await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  } catch (err) {
    await removeAll();
    throw err;
  }
  return {
    name,
    hostAddress,
    nsAddress,
    exec: async (cmd, args) => (await run('ip', ['netns', 'exec', name, cmd, ...args])).stdout,
    remove: removeAll,
  };
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** A process with its output lines; `waitFor` looks at lines from `from` (an index into `lines`) on. */
export interface Proc {
  child: ChildProcess;
  lines: string[];
  waitFor(pattern: RegExp, o?: { from?: number; timeoutMs?: number }): Promise<string>;
  exited: Promise<number | null>;
  /** SIGTERM, then the exit. */
  stop(): Promise<number | null>;
  kill(): Promise<void>;
}

/** Starts `stockade <args>` from the sources, inside `netns` when given. */
export function startStockade(args: string[], o: { netns?: string; env?: Record<string, string> } = {}): Proc {
  return startScript(join(ROOT, 'src/cli/main.ts'), args, o);
}

/** Starts a TypeScript file of the repository with node, inside `netns` when given; `stdin` keeps a pipe to it. */
export function startScript(file: string, args: string[], o: { netns?: string; env?: Record<string, string>; stdin?: boolean } = {}): Proc {
  const node = [process.execPath, '--import', 'tsx', file, ...args];
  const [cmd, ...argv] = o.netns ? ['ip', 'netns', 'exec', o.netns, ...node] : node;
  const child = spawn(cmd!, argv, { cwd: ROOT, env: { ...process.env, ...o.env }, stdio: [o.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  live.add(child);
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  const exited = new Promise<number | null>((res) =>
    child.on('exit', (code) => {
      live.delete(child);
      for (const w of waiters) w();
      res(code);
    }),
  );
  let done = false;
  void exited.then(() => {
    done = true;
  });
  for (const stream of [child.stdout!, child.stderr!])
    createInterface({ input: stream }).on('line', (l) => {
      lines.push(l);
      for (const w of waiters) w();
    });
  return {
    child,
    lines,
    exited,
    waitFor(pattern, w = {}) {
      const from = w.from ?? 0;
      return new Promise((res, rej) => {
        const check = (): void => {
          const hit = lines.slice(from).find((l) => pattern.test(l));
          if (hit !== undefined) {
            cleanup();
            res(hit);
          } else if (done) {
            cleanup();
            rej(new Error(`exited before a line matching ${pattern}:\n${lines.slice(-30).join('\n')}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          rej(new Error(`no line matching ${pattern} within ${w.timeoutMs ?? 60_000} ms:\n${lines.slice(-30).join('\n')}`));
        }, w.timeoutMs ?? 60_000);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop() {
      if (!done) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (!done) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The stack of one EDR test file. */
export interface EdrStack {
  f: ApiFixture;
  ingress: Ingress;
  tenant: string;
  operator: string;
  secret: string;
  dir: string;
  /** The operator API as the tenant's operator. */
  api<T = any>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>>;
  /** The operator API with the admin key (collection settings need `agents.configure`, which operator tokens lack). */
  admin<T = any>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>>;
  /** Enrolls an agent into `<dir>/<name>`; returns its folder and id. */
  enrollAgent(name: string): Promise<{ dir: string; agentId: string }>;
  /** A prepared host root: the identity fixture's /etc, and /proc of the machine (read only by collectors). */
  hostRoot(name: string): Promise<string>;
  /** Starts another ingress on the same address, port and CA (after `ingress.close()`). */
  restartIngress(): Promise<Ingress>;
  close(): Promise<void>;
}

/** The API, the ingress on `host` (the namespace's machine-side address, or loopback), and a tenant with `products`. */
export async function edrStack(o: {
  host: string;
  products: string[];
  serverClockOffsetMs?: number;
  /** The ingress's load shedding (it answers 503 with Retry-After when this throws). */
  backpressure?: { admit(): Promise<void> };
}): Promise<EdrStack> {
  const f = await apiFixture();
  const tmp = await tempDir('stk-edr-');
  const pkiDir = join(tmp.path, 'pki');
  const start = (port: number) =>
    startIngress({
      log: f.stk.runtime.log,
      logger: createLogger({ level: process.env.STK_TEST_LOG ?? 'silent' }),
      pkiDir,
      host: o.host,
      port,
      issuerThreads: 1,
      evidenceMaxBytes: 1024 * 1024,
      ...(o.serverClockOffsetMs ? { now: () => new Date(Date.now() + o.serverClockOffsetMs!) } : {}),
      ...(o.backpressure ? { backpressure: o.backpressure } : {}),
    });
  let ingress: Ingress;
  try {
    ingress = await start(0);
  } catch (err) {
    await f.cleanup();
    await tmp.cleanup();
    throw err;
  }
  const tenant = freshTenant('edr');
  const { enrollSecret } = await f.tenant(tenant, o.products);
  const operator = await f.token(tenant, 'operator');
  const stack: EdrStack = {
    f,
    get ingress() {
      return ingress;
    },
    tenant,
    operator,
    secret: enrollSecret,
    dir: tmp.path,
    api: (method, path, body) => f.call(method, `/api/v1/tenants/${tenant}${path}`, { token: operator, ...(body !== undefined ? { body } : {}) }),
    admin: (method, path, body) => f.call(method, `/api/v1/tenants/${tenant}${path}`, body !== undefined ? { body } : {}),
    async enrollAgent(name) {
      const client = await AgentClient.enroll({
        url: ingress.url,
        caPem: ingress.ca.certificatePem,
        secret: enrollSecret,
        hostname: `${name}-host`,
        os: 'linux test',
        agentVersion: 'test',
      });
      const dir = join(tmp.path, name);
      await saveAgentState(dir, client.state);
      client.close();
      return { dir, agentId: client.agentId };
    },
    async hostRoot(name) {
      const root = join(tmp.path, `root-${name}`);
      await writeTree(root, {
        'etc/passwd': PASSWD,
        'etc/shadow': SHADOW,
        'etc/group': GROUP,
        'etc/sudoers': SUDOERS,
        'etc/sudoers.d/.keep': '',
        'var/log/app.log': 'first line\nsecond line\n',
      });
      await mkdir(join(root, 'home/alice/.ssh'), { recursive: true });
      // The collectors read processes and sockets of the machine itself (read only); the rest of the root is the test's.
      await symlink('/proc', join(root, 'proc'));
      return root;
    },
    async restartIngress() {
      const port = Number(new URL(ingress.url).port);
      ingress = await start(port);
      return ingress;
    },
    async close() {
      await ingress.close().catch(() => undefined);
      await f.cleanup();
      await tmp.cleanup();
    },
  };
  return stack;
}

/** Dispatches a command as the tenant's operator; returns its id. */
export async function dispatch(s: EdrStack, agentId: string, action: string, args: Record<string, unknown> = {}): Promise<string> {
  const r = await s.api('POST', `/agents/${agentId}/commands`, { action, args });
  if (r.status !== 201) throw new Error(`dispatch ${action}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id;
}

/** Waits for a command's result as the API shows it. */
export function completed(s: EdrStack, commandId: string, timeoutMs = 60_000): Promise<{ outcome: string; output: string }> {
  return until(
    `command ${commandId} completed`,
    async () => {
      const r = await s.api('GET', `/commands/${commandId}`);
      return r.body.status === 'completed' ? { outcome: r.body.outcome as string, output: r.body.output as string } : null;
    },
    timeoutMs,
  );
}

/**
 * Sets the tenant's collection settings (short intervals for tests). Every interval is longer than
 * the config period on purpose: a config refresh must not keep putting the collectors' runs off.
 */
export async function fastSettings(s: EdrStack, extra: Record<string, unknown> = {}): Promise<void> {
  const r = await s.admin('PUT', '/agent-config', {
    configIntervalMs: 500,
    heartbeatIntervalMs: 1000,
    commandPollMs: 300,
    processes: { intervalMs: 700 },
    connections: { intervalMs: 700 },
    localAccounts: { intervalMs: 1000 },
    ...extra,
  });
  if (r.status !== 200) throw new Error(`settings: ${r.status} ${JSON.stringify(r.body)}`);
}
