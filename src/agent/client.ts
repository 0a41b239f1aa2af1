import { Agent, request } from 'node:https';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StkError, type ErrorCode } from '../errors.ts';
import { newId } from '../ids.ts';
import { certificateFacts, createAgentKeyAndCsr } from '../pki/agent-key.ts';

/** An answer of the ingress. */
// biome-ignore lint/suspicious/noExplicitAny: a JSON answer, typed by the caller
export interface IngressResponse<T = any> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | undefined>;
}

/** What an enrolled agent keeps on its disk (`<dir>/agent.json`, `agent.key`, `agent.crt`, `ca.crt`). */
export interface AgentState {
  url: string;
  agentId: string;
  keyPem: string;
  certPem: string;
  caPem: string;
}

/** One report event as the wire carries it. */
export interface WireEvent {
  kind: 'heartbeat' | 'alert' | 'finding' | 'scan-run' | 'evidence' | 'agent-health';
  at: string;
  data: Record<string, unknown>;
}

/**
 * Sends one HTTPS request through `agent` (keep-alive, client certificate): a JSON body, or `raw`
 * bytes (evidence uploads). Resolves with any answer, JSON-decoded when it is JSON; rejects only when
 * there was none (network, or no answer within `timeoutMs` when given).
 */
// biome-ignore lint/suspicious/noExplicitAny: a JSON answer, typed by the caller
export function call<T = any>(
  agent: Agent,
  url: string,
  method: string,
  path: string,
  body?: unknown,
  o: { raw?: Buffer; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<IngressResponse<T>> {
  const payload = o.raw ?? (body === undefined ? undefined : Buffer.from(JSON.stringify(body)));
  const type = o.raw ? 'application/octet-stream' : 'application/json';
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, url),
      {
        method,
        agent,
        ...(o.timeoutMs !== undefined ? { timeout: o.timeoutMs } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
        headers: payload ? { 'content-type': type, 'content-length': payload.length } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch {
            // not JSON: hand the text back as it is
          }
          resolve({ status: res.statusCode ?? 0, body: parsed as T, headers: res.headers });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new StkError('STK_ERR_UNAVAILABLE', 'the ingress did not answer in time', { timeoutMs: o.timeoutMs })));
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * The reference agent's connection to the ingress: mTLS with its own key and certificate, the
 * install's CA as the only trust anchor, keep-alive. Busy answers (503, 429) are retried after
 * their `Retry-After`, with the same body, so a retried report batch is the same batch.
 */
export class AgentClient {
  state: AgentState;
  #agent: Agent;
  readonly maxRetries: number;

  constructor(state: AgentState, o: { maxRetries?: number } = {}) {
    this.state = state;
    this.#agent = tlsAgent(state);
    this.maxRetries = o.maxRetries ?? 8;
  }

  /** Enrolls with a new key made here; only the CSR leaves this process. */
  static async enroll(o: {
    url: string;
    caPem: string;
    secret: string;
    hostname: string;
    os: string;
    agentVersion: string;
    machine?: string;
  }): Promise<AgentClient> {
    const { keyPem, csrPem } = await createAgentKeyAndCsr('ec-P-256');
    const agent = new Agent({ ca: o.caPem, keepAlive: false });
    try {
      const r = await call(agent, o.url, 'POST', '/agent/v1/enroll', {
        secret: o.secret,
        csr: csrPem,
        hostname: o.hostname,
        os: o.os,
        agentVersion: o.agentVersion,
        ...(o.machine ? { machine: o.machine } : {}),
      });
      if (r.status !== 201) throw errorOf(r);
      return new AgentClient({ url: o.url, agentId: r.body.agentId, keyPem, certPem: r.body.certificate, caPem: r.body.caCertificate });
    } finally {
      agent.destroy();
    }
  }

  get agentId(): string {
    return this.state.agentId;
  }

  /** Sends one batch; `batchId` makes a retry of it a no-op on the server. */
  async report(events: WireEvent[], batchId = newId()): Promise<IngressResponse> {
    return this.#send('POST', '/agent/v1/report', { agentId: this.agentId, batchId, events }, 202);
  }

  async commands(): Promise<Array<{ id: string; action: string; args: Record<string, unknown>; dispatchedAt: string; expiresAt?: string }>> {
    return (await this.#send('GET', '/agent/v1/commands', undefined, 200)).body.commands;
  }

  async result(commandId: string, outcome: 'succeeded' | 'failed', output: string): Promise<IngressResponse> {
    return this.#send('POST', `/agent/v1/commands/${encodeURIComponent(commandId)}/result`, { agentId: this.agentId, outcome, output }, 200);
  }

  /** Renews the certificate with a new key; the connection is re-made with it. */
  async renew(): Promise<void> {
    const { keyPem, csrPem } = await createAgentKeyAndCsr('ec-P-256');
    const r = await this.#send('POST', '/agent/v1/renew', { agentId: this.agentId, csr: csrPem }, 200);
    this.state = { ...this.state, keyPem, certPem: r.body.certificate, caPem: r.body.caCertificate };
    this.#agent.destroy();
    this.#agent = tlsAgent(this.state);
  }

  /** True when less than a third of the certificate's lifetime is left. */
  renewDue(now = new Date()): boolean {
    const { notBefore, notAfter } = certificateFacts(this.state.certPem);
    return notAfter.getTime() - now.getTime() < (notAfter.getTime() - notBefore.getTime()) / 3;
  }

  close(): void {
    this.#agent.destroy();
  }

  async #send(method: string, path: string, body: unknown, ok: number): Promise<IngressResponse> {
    for (let attempt = 0; ; attempt++) {
      let r: IngressResponse;
      try {
        r = await call(this.#agent, this.state.url, method, path, body);
      } catch (err) {
        if (attempt >= this.maxRetries) throw err;
        await backoff(attempt, undefined);
        continue;
      }
      if (r.status === ok) return r;
      if ((r.status === 503 || r.status === 429) && attempt < this.maxRetries) {
        await backoff(attempt, r.headers['retry-after']);
        continue;
      }
      throw errorOf(r);
    }
  }
}

function tlsAgent(s: AgentState): Agent {
  return new Agent({ ca: s.caPem, cert: s.certPem, key: s.keyPem, keepAlive: true, maxSockets: 4 });
}

/** Waits `Retry-After` seconds when the server gave it, else an exponential step with jitter. */
function backoff(attempt: number, retryAfter: string | string[] | undefined): Promise<void> {
  const seconds = Number(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
  const ms = Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : Math.min(30_000, 250 * 2 ** attempt) * (0.5 + Math.random() / 2);
  return new Promise((r) => setTimeout(r, ms));
}

function errorOf(r: IngressResponse): StkError {
  const e = r.body?.error;
  if (e?.code) return new StkError(e.code as ErrorCode, `ingress answered ${r.status}: ${e.message}`, { status: r.status });
  return new StkError('STK_ERR_INTERNAL', `ingress answered ${r.status}`, { status: r.status });
}

/** Saves an agent's state under `dir`: key and certificate mode 0600, written whole or not at all. */
export async function saveAgentState(dir: string, s: AgentState): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const put = async (name: string, content: string, mode: number): Promise<void> => {
    const tmp = join(dir, `.${name}.${process.pid}.tmp`);
    await writeFile(tmp, content, { mode });
    await chmod(tmp, mode);
    await rename(tmp, join(dir, name));
  };
  await put('agent.key', `${s.keyPem.trim()}\n`, 0o600);
  await put('agent.crt', `${s.certPem.trim()}\n`, 0o600);
  await put('ca.crt', `${s.caPem.trim()}\n`, 0o644);
  await put('agent.json', `${JSON.stringify({ url: s.url, agentId: s.agentId }, null, 2)}\n`, 0o600);
}

export async function loadAgentState(dir: string): Promise<AgentState> {
  try {
    const meta = JSON.parse(await readFile(join(dir, 'agent.json'), 'utf8')) as { url: string; agentId: string };
    return {
      url: meta.url,
      agentId: meta.agentId,
      keyPem: await readFile(join(dir, 'agent.key'), 'utf8'),
      certPem: await readFile(join(dir, 'agent.crt'), 'utf8'),
      caPem: await readFile(join(dir, 'ca.crt'), 'utf8'),
    };
  } catch (err) {
    throw new StkError('STK_ERR_CONFIG', `no enrolled agent in ${dir} (run \`stockade agent enroll\` first)`, { dir }, { cause: err });
  }
}
