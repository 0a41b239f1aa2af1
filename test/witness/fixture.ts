import type { FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger.ts';
import { MerkleTree, leafHash } from '../../src/merkle/mod.ts';
import {
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
  ed25519NoteSigner,
  formatVerifierKey,
  generateSignerKey,
  signCheckpoint,
  verifierKeyOf,
  type SignerKey,
} from '../../src/transparency/mod.ts';
import { Witness, buildWitnessApp } from '../../src/witness/mod.ts';

/** A log for tests: a Merkle tree of numbered leaves and a key that signs its checkpoints. */
export class TestLog {
  readonly key: SignerKey;
  readonly tree = new MerkleTree();
  readonly #salt: string;

  constructor(origin: string, salt = 'leaf') {
    this.key = generateSignerKey(origin, SIG_TYPE_ED25519);
    this.#salt = salt;
  }

  get origin(): string {
    return this.key.name;
  }

  get vkey(): string {
    return formatVerifierKey(verifierKeyOf(this.key));
  }

  /** Grows the tree to `size` leaves (leaf i is SHA-256 of `<salt>-<i>`). */
  grow(size: number): this {
    while (this.tree.size < size) this.tree.append(leafHash(Buffer.from(`${this.#salt}-${this.tree.size}`)));
    return this;
  }

  /** The signed checkpoint note at `size`, signed by `key` (the log's own by default). */
  checkpoint(size: number, key: SignerKey = this.key): string {
    this.grow(size);
    return signCheckpoint({ origin: this.origin, size, rootHash: this.tree.root(size), extensions: [] }, [ed25519NoteSigner(key)]);
  }
}

/** Log lines of a witness under test, kept for assertions instead of printed. */
export function captureLogger(): { logger: ReturnType<typeof createLogger>; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

/** A witness on a loopback port with a temp state folder; `close()` stops it and removes the folder. */
export interface WitnessFixture {
  url: string;
  witness: Witness;
  key: SignerKey;
  stateDir: string;
  app: FastifyInstance;
  logLines: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/** Starts a witness for `logs` (their vkeys) over real HTTP on 127.0.0.1. */
export async function startWitness(
  logs: TestLog[],
  o: { now?: () => number; maxBodyBytes?: number; stateDir?: string; key?: SignerKey } = {},
): Promise<WitnessFixture> {
  const own = o.stateDir === undefined;
  const stateDir = o.stateDir ?? mkdtempSync(join(tmpdir(), 'stk-witness-'));
  const key = o.key ?? generateSignerKey('witness.test/w1', SIG_TYPE_COSIGNATURE_V1);
  const { logger, lines } = captureLogger();
  const witness = await Witness.open({ stateDir, key, logs: logs.map((l) => verifierKeyOf(l.key)), logger, ...(o.now ? { now: o.now } : {}) });
  const app = await buildWitnessApp({ witness, logger, ...(o.maxBodyBytes ? { maxBodyBytes: o.maxBodyBytes } : {}) });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
  } catch (err) {
    witness.close();
    throw err;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    witness,
    key,
    stateDir,
    app,
    logLines: lines,
    async close() {
      await app.close();
      witness.close();
      if (own) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** POSTs a raw body to the witness; returns status, content type and body text. */
export async function post(url: string, body: Uint8Array | string): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(`${url}/add-checkpoint`, { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body) });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}
