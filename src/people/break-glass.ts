import { type AdminKeyUsed, breakGlassDecider } from '../../commands/break-glass/decider.ts';
import { execute } from '../domain/execute.ts';
import { newId } from '../ids.ts';
import type { EventLog } from '../log/mod.ts';
import { INSTALL_TENANT } from './install.ts';

/** A process records one break-glass event per episode: the first admin-key use after this long without one. */
export const BREAK_GLASS_EPISODE_MS = 15 * 60_000;

/**
 * Records uses of the admin key as sealed events of the install tenant. The first use of an
 * episode is written BEFORE the request it belongs to is served (a failed write refuses the
 * request), so the key cannot be used without a trace; further uses by the same process within
 * `BREAK_GLASS_EPISODE_MS` of the last recorded one are covered by it and counted in memory.
 */
export class BreakGlass {
  #recordedAt = 0;
  #pending: Promise<void> | null = null;
  readonly process = newId();
  /** Uses since the last recorded episode (in this process). */
  usesSinceRecord = 0;

  constructor(
    private readonly log: EventLog,
    private readonly now: () => number = Date.now,
  ) {}

  /** Called on every admin-key request; resolves once the episode is on record. */
  async used(use: Omit<AdminKeyUsed, 'process'>): Promise<void> {
    this.usesSinceRecord++;
    if (this.now() - this.#recordedAt < BREAK_GLASS_EPISODE_MS) return;
    // Concurrent first uses share one write.
    this.#pending ??= (async () => {
      try {
        await execute(
          this.log,
          { tenant: INSTALL_TENANT, id: newId() },
          breakGlassDecider,
          { kind: 'record', use: { ...use, process: this.process } },
          { actor: { kind: 'operator', id: 'admin' }, known: 'new' },
        );
        this.#recordedAt = this.now();
        this.usesSinceRecord = 1;
      } finally {
        this.#pending = null;
      }
    })();
    await this.#pending;
  }
}
