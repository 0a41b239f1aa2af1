import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { StkError, type ErrorCode } from '../errors.ts';
import { InstallCa } from './ca.ts';
import { verifyCsr } from './csr.ts';

/** What the ingress asks of the CA: verify a CSR and certify its key for an agent. */
export interface IssueRequest {
  csrPem: string;
  agentId: string;
  tenant: string;
  now: Date;
  validityDays?: number;
}

/** The certificate and the facts that go into the agent's events. */
export interface IssueResult {
  pem: string;
  serial: string;
  fingerprint: string;
  notBefore: Date;
  notAfter: Date;
  keyType: string;
}

/** Verifies and issues in this thread. */
export function issueFromCsr(ca: InstallCa, r: IssueRequest): IssueResult {
  const csr = verifyCsr(r.csrPem);
  const cert = ca.issueAgentCertificate({
    spki: csr.spki,
    agentId: r.agentId,
    tenant: r.tenant,
    now: r.now,
    ...(r.validityDays ? { validityDays: r.validityDays } : {}),
  });
  return { ...cert, keyType: csr.keyType };
}

interface Job {
  resolve: (r: IssueResult) => void;
  reject: (e: Error) => void;
}

type WorkerAnswer =
  | { id: number; ok: true; result: Omit<IssueResult, 'notBefore' | 'notAfter'> & { notBefore: number; notAfter: number } }
  | { id: number; ok: false; code: ErrorCode; message: string };

/**
 * Certificate issuing on worker threads. Checking a CSR and building a certificate cost about
 * 1 ms of CPU (ASN.1 parsing and encoding, key import, one verify and one sign); on the event
 * loop that would cap enrollments near 900/s per process and stall every other agent request
 * behind them. Each worker opens the same CA from the data folder (the key never crosses a thread
 * boundary); jobs go to the least busy worker. `size` 0 issues in the calling thread.
 */
export class Issuer {
  readonly ca: InstallCa;
  readonly #workers: Array<{ worker: Worker; jobs: Map<number, Job> }> = [];
  #next = 0;

  private constructor(ca: InstallCa) {
    this.ca = ca;
  }

  /** @param size workers; defaults to the machine's parallelism, at most 4. */
  static async open(pkiDir: string, o: { size?: number } = {}): Promise<Issuer> {
    const ca = await InstallCa.open(pkiDir);
    const issuer = new Issuer(ca);
    const size = o.size ?? Math.min(4, availableParallelism());
    const fromSources = import.meta.url.endsWith('.ts');
    const file = new URL(fromSources ? './issuer-worker.ts' : './issuer-worker.js', import.meta.url).href;
    // Run from the TypeScript sources (tests, benchmarks), a worker needs tsx's loader registered
    // in its own thread before it can import a .ts file; the compiled build needs nothing.
    const loader = fromSources ? import.meta.resolve('tsx/esm/api') : null;
    try {
      for (let i = 0; i < size; i++) {
        const w = await startWorker(file, loader, pkiDir);
        // A thread that died takes no more jobs; with none left, issuing goes on in this thread.
        w.worker.once('exit', () => {
          const at = issuer.#workers.indexOf(w);
          if (at >= 0) issuer.#workers.splice(at, 1);
        });
        issuer.#workers.push(w);
      }
    } catch (err) {
      await issuer.close();
      throw err;
    }
    return issuer;
  }

  issue(r: IssueRequest): Promise<IssueResult> {
    if (this.#workers.length === 0) {
      try {
        return Promise.resolve(issueFromCsr(this.ca, r));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const w = this.#workers.reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a));
    const id = ++this.#next;
    return new Promise((resolve, reject) => {
      w.jobs.set(id, { resolve, reject });
      w.worker.postMessage({ id, csrPem: r.csrPem, agentId: r.agentId, tenant: r.tenant, now: r.now.getTime(), validityDays: r.validityDays ?? 0 });
    });
  }

  async close(): Promise<void> {
    const ws = this.#workers.splice(0);
    await Promise.all(ws.map((w) => w.worker.terminate()));
    for (const w of ws) for (const j of w.jobs.values()) j.reject(new StkError('STK_ERR_UNAVAILABLE', 'certificate issuer closed', { retryAfterSeconds: 1 }));
  }
}

const BOOT = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.loader) (await import(workerData.loader)).register();
  await import(workerData.file);
})().catch((err) => require('node:worker_threads').parentPort.postMessage({ error: String(err && err.stack || err) }));
`;

async function startWorker(file: string, loader: string | null, pkiDir: string): Promise<{ worker: Worker; jobs: Map<number, Job> }> {
  const worker = new Worker(BOOT, { eval: true, workerData: { pkiDir, file, loader } });
  const jobs = new Map<number, Job>();
  worker.unref();
  await new Promise<void>((resolve, reject) => {
    worker.once('message', (m: { ready?: boolean; error?: string }) =>
      m.ready ? resolve() : reject(new StkError('STK_ERR_INTERNAL', m.error ?? 'issuer worker failed to start')),
    );
    worker.once('error', reject);
  });
  worker.on('message', (m: WorkerAnswer) => {
    const job = jobs.get(m.id);
    if (!job) return;
    jobs.delete(m.id);
    if (m.ok) job.resolve({ ...m.result, notBefore: new Date(m.result.notBefore), notAfter: new Date(m.result.notAfter) });
    else job.reject(new StkError(m.code, m.message, { field: 'csr' }));
  });
  const failAll = (cause: unknown): void => {
    for (const j of jobs.values()) j.reject(new StkError('STK_ERR_INTERNAL', 'certificate issuer failed', {}, { cause }));
    jobs.clear();
  };
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new StkError('STK_ERR_INTERNAL', `issuer thread exited with ${code}`, { code })));
  return { worker, jobs };
}
