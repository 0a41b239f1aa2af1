import type { LookupFunction } from 'node:net';
import { Agent } from 'node:https';
import { isIP } from 'node:net';
import { type AgentState, call, type IngressResponse, type WireEvent } from '../client.ts';
import type { AgentConfig } from '../../domain/agent-config.ts';
import { createAgentKeyAndCsr } from '../../pki/agent-key.ts';
import type { TelemetryItem } from '../../telemetry/items.ts';

/** One request to the ingress has this long to complete before it counts as a network failure. */
const REQUEST_TIMEOUT_MS = 30_000;

/** A report batch as the agent spools and sends it. */
export interface ReportBatch {
  batchId: string;
  events: WireEvent[];
}

/** A telemetry batch as the agent spools and sends it (the root computed when it was made). */
export interface TelemetryBatchOut {
  batchId: string;
  merkleRoot: string;
  items: TelemetryItem[];
}

/**
 * The running agent's connection to the ingress: mTLS with its key and certificate, the install's
 * CA as the only trust anchor, keep-alive. It never retries by itself — the runner decides (back-off,
 * spool) — and hands every answer back with its status and headers.
 *
 * `pin(addresses)` makes every new connection go to those addresses instead of resolving the
 * ingress's host name, while TLS still checks the certificate against that name: once a host is
 * isolated, DNS is cut off, and the addresses resolved at isolation time are the only ones the
 * isolation table lets through.
 */
export class IngressClient {
  state: AgentState;
  #pinned: string[] | null = null;
  #agent: Agent;

  constructor(state: AgentState) {
    this.state = state;
    this.#agent = this.#makeAgent();
  }

  get agentId(): string {
    return this.state.agentId;
  }

  /** The ingress's host and port, from its URL. */
  get endpoint(): { host: string; port: number } {
    const u = new URL(this.state.url);
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 443) };
  }

  /** Connects to these addresses from now on (null: resolve the host name again). */
  pin(addresses: string[] | null): void {
    this.#pinned = addresses && addresses.length > 0 ? [...addresses] : null;
    this.#agent.destroy();
    this.#agent = this.#makeAgent();
  }

  get pinned(): string[] | null {
    return this.#pinned;
  }

  #makeAgent(): Agent {
    const pinned = this.#pinned;
    const lookup: LookupFunction | undefined = pinned
      ? (_host, options, cb) => {
          const all = pinned.map((address) => ({ address, family: isIP(address) }));
          if ((options as { all?: boolean }).all) (cb as unknown as (e: null, a: typeof all) => void)(null, all);
          else cb(null, all[0]!.address, all[0]!.family);
        }
      : undefined;
    return new Agent({
      ca: this.state.caPem,
      cert: this.state.certPem,
      key: this.state.keyPem,
      keepAlive: true,
      maxSockets: 4,
      ...(lookup ? { lookup } : {}),
    });
  }

  /** One request; resolves with any answer, rejects only when there was none (network, timeout, `signal`). */
  send<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    o: { raw?: Buffer; timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<IngressResponse<T>> {
    return call<T>(this.#agent, this.state.url, method, path, body, { ...o, timeoutMs: o.timeoutMs ?? REQUEST_TIMEOUT_MS });
  }

  config(): Promise<IngressResponse<AgentConfig>> {
    return this.send('GET', '/agent/v1/config');
  }

  report(b: ReportBatch): Promise<IngressResponse> {
    return this.send('POST', '/agent/v1/report', { agentId: this.agentId, batchId: b.batchId, events: b.events });
  }

  telemetry(b: TelemetryBatchOut): Promise<IngressResponse> {
    return this.send('POST', '/agent/v1/telemetry', { agentId: this.agentId, batchId: b.batchId, merkleRoot: b.merkleRoot, items: b.items });
  }

  /**
   * Unanswered commands. With `waitS`, a long-poll: the ingress holds the request until a command
   * arrives or the time is up (at most 55 s), so an idle agent makes one request per wait.
   */
  commands(
    waitS = 0,
    signal?: AbortSignal,
  ): Promise<IngressResponse<{ commands: Array<{ id: string; action: string; args: Record<string, unknown>; dispatchedAt: string; expiresAt?: string }> }>> {
    if (waitS <= 0) return this.send('GET', '/agent/v1/commands');
    return this.send('GET', `/agent/v1/commands?wait=${waitS}`, undefined, { timeoutMs: (waitS + 15) * 1000, ...(signal ? { signal } : {}) });
  }

  result(commandId: string, outcome: 'succeeded' | 'failed', output: string): Promise<IngressResponse> {
    return this.send('POST', `/agent/v1/commands/${encodeURIComponent(commandId)}/result`, { agentId: this.agentId, outcome, output });
  }

  evidence(commandId: string, name: string, sha256: string, content: Buffer): Promise<IngressResponse> {
    const q = new URLSearchParams({ agentId: this.agentId, commandId, sha256, name });
    return this.send('POST', `/agent/v1/evidence?${q}`, undefined, { raw: content });
  }

  /** Renews the certificate with a new key; new connections use it. Resolves with the answer. */
  async renew(): Promise<IngressResponse> {
    const { keyPem, csrPem } = await createAgentKeyAndCsr('ec-P-256');
    const r = await this.send<{ certificate: string; caCertificate: string }>('POST', '/agent/v1/renew', { agentId: this.agentId, csr: csrPem });
    if (r.status === 200) {
      this.state = { ...this.state, keyPem, certPem: r.body.certificate, caPem: r.body.caCertificate };
      this.#agent.destroy();
      this.#agent = this.#makeAgent();
    }
    return r;
  }

  close(): void {
    this.#agent.destroy();
  }
}
