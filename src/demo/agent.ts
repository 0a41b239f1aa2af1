// A demo host's agent: its own key and certificate from a real enrollment, and the same requests
// the reference agent makes over mTLS — config, reports, telemetry batches with their Merkle
// roots, patch inventories, scan runs, evidence uploads, command pulls and results.
import { createHash, X509Certificate } from 'node:crypto';
import { Agent } from 'node:https';
import type { WireEvent } from '../agent/client.ts';
import { call, type IngressResponse } from '../agent/client.ts';
import { IngressClient } from '../agent/run/client.ts';
import { AGENT_VERSION } from '../agent/run/runner.ts';
import { type ErrorCode, StkError } from '../errors.ts';
import { newId } from '../ids.ts';
import { createAgentKeyAndCsr } from '../pki/agent-key.ts';
import { type TelemetryItem, telemetryRoot } from '../telemetry/items.ts';
import type { HostPlan } from './book.ts';
import { OSES } from './hosts.ts';

/** Busy answers (429, 503) are sent again after their Retry-After this many times. */
const MAX_RETRIES = 8;

/** A command as the ingress hands it out. */
export interface PulledCommand {
  id: string;
  action: string;
  args: Record<string, unknown>;
  expiresAt?: string;
}

function failure(r: IngressResponse, what: string): StkError {
  const e = r.body?.error;
  return new StkError((e?.code as ErrorCode | undefined) ?? 'STK_ERR_INTERNAL', `${what}: the ingress answered ${r.status} ${e?.message ?? ''}`.trim(), {
    status: r.status,
  });
}

async function retrying(send: () => Promise<IngressResponse>): Promise<IngressResponse> {
  for (let attempt = 0; ; attempt++) {
    const r = await send();
    if ((r.status !== 429 && r.status !== 503) || attempt >= MAX_RETRIES) return r;
    const after = Number(r.headers['retry-after']);
    await new Promise((res) => setTimeout(res, Number.isFinite(after) && after >= 0 ? after * 1000 : 250 * 2 ** Math.min(attempt, 5)));
  }
}

/** The machine fingerprint the reference agent sends (src/agent/machine.ts), for the book's machine id. */
export function fingerprintOf(machineId: string, caPem: string): string {
  const ca = createHash('sha256').update(new X509Certificate(caPem).raw).digest('hex');
  return createHash('sha256').update(`stockade machine v1\0${ca}\0${machineId}`).digest('hex');
}

/** One enrolled demo agent. */
export class DemoAgent {
  readonly host: HostPlan;
  readonly startedAt: string;
  #client: IngressClient;

  private constructor(host: HostPlan, client: IngressClient, startedAt: string) {
    this.host = host;
    this.#client = client;
    this.startedAt = startedAt;
  }

  /** Enrolls `host` with the tenant's secret: a new key made here, only the CSR sent. */
  static async enroll(ingressUrl: string, caPem: string, secret: string, host: HostPlan): Promise<DemoAgent> {
    const { keyPem, csrPem } = await createAgentKeyAndCsr('ec-P-256');
    const anon = new Agent({ ca: caPem, keepAlive: false });
    try {
      const body = {
        secret,
        csr: csrPem,
        hostname: host.hostname,
        os: OSES[host.os].label,
        agentVersion: AGENT_VERSION,
        machine: fingerprintOf(host.machineId, caPem),
      };
      // Enrollments are rate-limited per address: a book of many hosts waits its turn.
      const r = await retrying(() => call(anon, ingressUrl, 'POST', '/agent/v1/enroll', body));
      if (r.status !== 201) throw failure(r, `enrolling ${host.hostname}`);
      const client = new IngressClient({ url: ingressUrl, agentId: r.body.agentId, keyPem, certPem: r.body.certificate, caPem: r.body.caCertificate });
      return new DemoAgent(host, client, new Date().toISOString());
    } finally {
      anon.destroy();
    }
  }

  get agentId(): string {
    return this.#client.agentId;
  }

  async #expect(what: string, ok: number[], send: () => Promise<IngressResponse>): Promise<IngressResponse> {
    const r = await retrying(send);
    if (!ok.includes(r.status)) throw failure(r, `${this.host.hostname}: ${what}`);
    return r;
  }

  /** `GET /agent/v1/config`: the products whose collectors run. */
  async config(): Promise<{ products: string[]; collectors: Record<string, unknown> }> {
    return (await this.#expect('config', [200], () => this.#client.config())).body as never;
  }

  /** One report batch; answers its consistency token. */
  async report(events: WireEvent[]): Promise<string> {
    const batchId = newId();
    return (await this.#expect('report', [202], () => this.#client.report({ batchId, events }))).body.consistencyToken;
  }

  /** A heartbeat with the host's inventory, as the reference agent beats. */
  heartbeat(): Promise<string> {
    return this.report([{ kind: 'heartbeat', at: new Date().toISOString(), data: this.beat() }]);
  }

  /** A heartbeat's data: the reference agent's inventory fields, for this host. */
  beat(): Record<string, unknown> {
    const h = this.host;
    return {
      inventory: {
        hostname: h.hostname,
        platform: 'linux',
        release: OSES[h.os].kernel,
        arch: 'x64',
        cpus: h.cpus,
        memoryBytes: h.memoryBytes,
        agentVersion: AGENT_VERSION,
        hostRoot: '/',
        isolatedVia: null,
        spool: { pendingBatches: 0, pendingItems: 0, diskBytes: 0, droppedBatches: 0, droppedItems: 0 },
      },
      agentStartedAt: this.startedAt,
      agentVersion: AGENT_VERSION,
    };
  }

  /** One telemetry batch with the Merkle root computed here. */
  async telemetry(items: TelemetryItem[]): Promise<void> {
    const batch = { batchId: newId(), merkleRoot: telemetryRoot(items), items };
    await this.#expect('telemetry', [202], () => this.#client.telemetry(batch));
  }

  /** Posts JSON to an agent route (inventories, scan runs) and answers the body. */
  // biome-ignore lint/suspicious/noExplicitAny: a JSON answer, typed by the caller
  async post(path: string, body: unknown, ok = [200, 201, 202]): Promise<any> {
    return (await this.#expect(path, ok, () => this.#client.send('POST', path, body))).body;
  }

  /** Uploads a collected file for a collect-evidence command; answers the evidence id. */
  async evidence(commandId: string, path: string, content: Buffer): Promise<string> {
    const sha256 = createHash('sha256').update(content).digest('hex');
    return (await this.#expect('evidence', [201], () => this.#client.evidence(commandId, path, sha256, content))).body.evidenceId;
  }

  /** The agent's unanswered commands, oldest first. */
  async commands(): Promise<PulledCommand[]> {
    return (await this.#expect('commands', [200], () => this.#client.commands())).body.commands;
  }

  async result(commandId: string, outcome: 'succeeded' | 'failed', output: string): Promise<void> {
    await this.#expect('result', [200], () => this.#client.result(commandId, outcome, output));
  }

  close(): void {
    this.#client.close();
  }
}
