import type { Logger } from '../logger.ts';
import { addCheckpoint } from '../witness/mod.ts';
import type { LedgerTrees } from './trees.ts';

/** What the sealer keeps about one witness. */
interface WitnessState {
  url: string;
  /** Per tenant: the size the witness last cosigned, as it told us (unknown until the first answer). */
  sizes: Map<string, number>;
}

/** Where the sealer's witnesses are and how long to wait for each. */
export interface WitnessPusherOptions {
  /** tlog-witness submission prefixes (`POST <url>/add-checkpoint`). */
  urls: string[];
  /** Consistency proofs from the witness's size come from here. */
  trees: LedgerTrees;
  logger: Logger;
  /** @defaultValue 10000 */
  timeoutMs?: number;
}

/**
 * Sends each tenant checkpoint to every configured witness (C2SP tlog-witness `add-checkpoint`),
 * with a consistency proof from the size that witness last cosigned, and collects the
 * cosignature lines. A 409 tells the witness's size: the request is sent again once from there.
 * A witness that refuses otherwise or cannot be reached is logged and skipped; the checkpoint is
 * stored with the cosignatures obtained (verify can require a quorum of them).
 */
export class WitnessPusher {
  readonly #o: WitnessPusherOptions;
  readonly #witnesses: WitnessState[];

  constructor(o: WitnessPusherOptions) {
    this.#o = o;
    this.#witnesses = o.urls.map((url) => ({ url, sizes: new Map() }));
  }

  get urls(): string[] {
    return this.#witnesses.map((w) => w.url);
  }

  /** Cosignature lines of every witness that cosigned `note` (the tenant's checkpoint of `size` leaves). */
  async cosign(tenant: string, note: string, size: number): Promise<string[]> {
    const lines = await Promise.all(this.#witnesses.map((w) => this.#push(w, tenant, note, size)));
    return lines.flat();
  }

  async #push(w: WitnessState, tenant: string, note: string, size: number): Promise<string[]> {
    const log = this.#o.logger.child({ witness: w.url, tenant, size });
    let from = w.sizes.get(tenant) ?? 0;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const proof = from > 0 && from < size ? await this.#o.trees.consistencyHashes(tenant, from, size) : [];
        const r = await addCheckpoint(w.url, from, proof, note, { timeoutMs: this.#o.timeoutMs ?? 10_000 });
        if (r.ok) {
          w.sizes.set(tenant, size);
          return r.cosignatures;
        }
        if (r.code === 'STK_ERR_WITNESS_CONFLICT' && r.currentSize !== undefined && attempt === 0) {
          if (r.currentSize > size) {
            // The witness has cosigned a larger tree of this log than the sealer holds: the chain
            // was rewound (or another install uses this origin). Never argue with it.
            log.error({ witnessSize: r.currentSize }, 'the witness has cosigned a larger tree than this chain: the chain was rewound or the origin is reused');
            return [];
          }
          from = r.currentSize;
          w.sizes.set(tenant, from);
          continue;
        }
        const level = r.code === 'STK_ERR_WITNESS_INCONSISTENT' ? 'error' : 'warn';
        log[level]({ code: r.code, status: r.status, detail: r.message }, 'the witness refused the checkpoint');
        w.sizes.delete(tenant);
        return [];
      } catch (err) {
        log.warn({ err }, 'witness unreachable; the checkpoint is stored without its cosignature');
        return [];
      }
    }
    return [];
  }
}
