import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { AgentClient, type WireEvent } from '../../src/agent/client.ts';
import { EVENTS_STREAM, tenantFilter } from '../../src/log/mod.ts';
import { retryTransient } from '../../src/log/retry.ts';
import { LEDGER_STREAM, ledgerSubject } from '../../src/ledger/format.ts';
import { freePort } from '../../src/nats/server.ts';
import { tempDir } from '../helpers/nats.ts';
import { runCli, type CliProcess } from '../helpers/proc.ts';

/** One `stockade serve --role …` process that can be killed and started again on the same ports and folder. */
export class RoleProcess {
  proc!: CliProcess;
  info: { api?: string; ingress?: string } = {};
  constructor(
    readonly roles: string,
    readonly dir: string,
    readonly args: string[],
    readonly env: Record<string, string>,
    /** Arguments for node itself (the benches' `--cpu-prof`). */
    readonly nodeArgs: string[] = [],
  ) {}

  static async create(roles: string, env: Record<string, string>, extraEnv: Record<string, string> = {}, nodeArgs: string[] = []): Promise<RoleProcess> {
    const dir = await tempDir(`stk-${roles.replace(/,/g, '-')}-`);
    const args = ['serve', '--role', roles, '--data', dir.path, '--http', `127.0.0.1:${await freePort()}`, '--ingress', `127.0.0.1:${await freePort()}`];
    return new RoleProcess(roles, dir.path, args, { ...env, ...extraEnv }, nodeArgs);
  }

  async start(): Promise<void> {
    this.proc = runCli(this.args, this.env, this.nodeArgs);
    this.info = JSON.parse(await this.proc.waitFor(/stockade is running/, 120_000));
  }

  /** SIGKILL: no drain, no goodbye. */
  async kill9(): Promise<void> {
    await this.proc.kill();
  }

  async stop(): Promise<void> {
    this.proc?.child.kill('SIGTERM');
    await this.proc?.exited;
  }
}

/** An operator API client with the admin key of the API process's data folder. */
export async function adminApi(api: RoleProcess): Promise<(method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>> {
  const key = (await readFile(join(api.dir, 'admin.key'), 'utf8')).trim();
  return async (method, path, body) => {
    const res = await fetch(`${api.info.api}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: await res.json() };
  };
}

/**
 * A steady reporter: batches of `perBatch` alerts, one after another, each with its own batch id
 * and retried by the reference agent's client (same batch id) through outages.
 */
export class SteadyLoad {
  acked = 0;
  batches = 0;
  failures: unknown[] = [];
  readonly ackTimes: number[] = [];
  #stop = false;
  #loop: Promise<void> | null = null;
  #listeners: Array<{ resolve: (t: number) => void; reject: (e: unknown) => void }> = [];

  readonly agent: AgentClient;

  /**
   * Reports through its own client on `enrolled`'s identity that keeps resending a batch through
   * long outages (a leader election on a loaded machine can outlast the default retries), as an
   * agent that holds on to its batch would.
   */
  constructor(
    enrolled: AgentClient,
    readonly perBatch = 5,
  ) {
    this.agent = new AgentClient(enrolled.state, { maxRetries: 40 });
  }

  start(): void {
    this.#loop = (async () => {
      for (let b = 0; !this.#stop; b++) {
        const at = new Date().toISOString();
        const events: WireEvent[] = Array.from({ length: this.perBatch }, (_, i) => ({
          kind: 'alert' as const,
          at,
          data: { rule: 'edr.fault-suite', severity: 'medium', title: `batch ${b} alert ${i}` },
        }));
        try {
          await this.agent.report(events, `fault-${b}`);
          this.acked += this.perBatch;
          this.batches++;
          this.ackTimes.push(Date.now());
          const now = Date.now();
          for (const l of this.#listeners.splice(0)) l.resolve(now);
        } catch (err) {
          this.failures.push(err);
          for (const l of this.#listeners.splice(0)) l.reject(err);
          return;
        }
      }
    })();
  }

  /** Resolves at the first acknowledgement after now; rejects if the agent gives up on a batch. */
  nextAck(): Promise<number> {
    if (this.failures.length) return Promise.reject(this.failures[0]);
    return new Promise((resolve, reject) => this.#listeners.push({ resolve, reject }));
  }

  async stop(): Promise<void> {
    this.#stop = true;
    await this.#loop;
    this.agent.close();
  }
}

/**
 * Resolves once LEDGER holds a block of `tenant` that covers stream sequence `seq`, as blocks
 * arrive. `deadlineMs` only turns a sealer that never gets there into a failure with its
 * evidence (the highest block seen) instead of a hung suite.
 */
export async function ledgerCovers(nc: NatsConnection, tenant: string, seq: number, deadlineMs = 60_000): Promise<void> {
  // After a failover the new stream leader may take a few seconds to answer: transient, retried.
  const messages = await retryTransient(
    async () => (await jetstream(nc).consumers.get(LEDGER_STREAM, { filter_subjects: ledgerSubject(tenant), deliver_policy: DeliverPolicy.All })).consume(),
    30_000,
  );
  let highest = 0;
  const deadline = setTimeout(() => void messages.close(), deadlineMs);
  try {
    for await (const m of messages) {
      highest = Math.max(highest, (JSON.parse(new TextDecoder().decode(m.data)) as { lastSeq: number }).lastSeq);
      if (highest >= seq) return;
    }
    throw new Error(`LEDGER never covered ${tenant} up to ${seq} within ${deadlineMs} ms; highest block ends at ${highest}`);
  } finally {
    clearTimeout(deadline);
    void messages.close();
  }
}

/** Stream sequence of the tenant's newest record. */
export async function lastRecordOf(nc: NatsConnection, tenant: string): Promise<number> {
  // jetstreamManager asks the account's info first: it too may meet an election.
  return (
    (await retryTransient(async () => (await jetstreamManager(nc)).streams.getMessage(EVENTS_STREAM, { last_by_subj: tenantFilter(tenant) }), 30_000))?.seq ?? 0
  );
}

/**
 * GET `path` once the API's read models have reached `position`. The server waits up to 10 s per
 * request (`waitMs`) and answers 503 STK_ERR_PROJECTION_BEHIND past that; a replica catching up
 * after a restart or failover may need a few such rounds. Each round waits on the server.
 */
export async function readWhenCaughtUp(
  call: (method: string, path: string) => Promise<{ status: number; body: any }>,
  path: string,
  waitFor: string,
  rounds = 9,
): Promise<{ status: number; body: any }> {
  const sep = path.includes('?') ? '&' : '?';
  for (let i = 0; ; i++) {
    const r = await call('GET', `${path}${sep}waitFor=${waitFor}&waitMs=10000`);
    if (r.status !== 503 || i + 1 >= rounds) return r;
  }
}

/**
 * A fresh tenant with EDR on, created through the API process, and one agent enrolled with its
 * secret through the ingress process.
 */
export async function onboardAgent(
  api: RoleProcess,
  ingress: RoleProcess,
  prefix: string,
): Promise<{ tenant: string; admin: Awaited<ReturnType<typeof adminApi>>; agent: AgentClient }> {
  const admin = await adminApi(api);
  const tenant = `${prefix}-${Date.now().toString(36)}`;
  const created = await admin('POST', '/api/v1/tenants', { id: tenant, name: prefix });
  if (created.status !== 201) throw new Error(`tenant not created: ${JSON.stringify(created.body)}`);
  const edr = await admin('PUT', `/api/v1/tenants/${tenant}/products/edr`, { enabled: true });
  if (edr.status !== 200) throw new Error(`edr not enabled: ${JSON.stringify(edr.body)}`);
  const caPem = await readFile(join(ingress.dir, 'pki', 'ca.crt'), 'utf8');
  const agent = await AgentClient.enroll({
    url: ingress.info.ingress!,
    caPem,
    secret: created.body.enrollSecret,
    hostname: `${prefix}-01`,
    os: 'linux',
    agentVersion: '1.0.0',
  });
  return { tenant, admin, agent };
}
