import { createHash } from 'node:crypto';
import { StkError } from '../errors.ts';
import type { Bucket, Streams } from '../log/mod.ts';

/** KV bucket of sign-in counters and TOTP replay steps, shared by every API process. */
export const PEOPLE_BUCKET = 'stk-people';

/** Failures allowed before the account waits, the first wait, and the longest. */
export const LOCKOUT_FREE_FAILURES = 5;
export const LOCKOUT_BASE_MS = 30_000;
export const LOCKOUT_MAX_MS = 15 * 60_000;
/** Failures older than this (since the last one) are forgotten. */
export const LOCKOUT_FORGET_MS = 60 * 60_000;

interface Counter {
  failures: number;
  lastAt: number;
  lockedUntil: number;
}

const CAS_ATTEMPTS = 20;

/**
 * Sign-in failures counted per account across every API process, and TOTP steps used, in NATS KV
 * with compare-and-set (`create` for the first write, `update` with the revision read): two
 * processes counting the same failure at once both land, one after the other, and two processes
 * accepting the same TOTP code at once cannot both win. After `LOCKOUT_FREE_FAILURES` failures the
 * account waits 30 s, doubling with each further failure up to 15 minutes; a success clears it.
 * Accounts are keyed by a hash of the e-mail, so unknown e-mails are counted the same way and the
 * lock-out tells nobody which accounts exist.
 */
export class SignInGuard {
  constructor(
    private readonly kv: Bucket,
    private readonly now: () => number = Date.now,
  ) {}

  static async open(streams: Streams, o: { replicas?: number; now?: () => number } = {}): Promise<SignInGuard> {
    return new SignInGuard(await streams.bucket(PEOPLE_BUCKET, { history: 1, replicas: o.replicas ?? 1 }), o.now);
  }

  /** Refuses with STK_ERR_ACCOUNT_LOCKED while the account waits. */
  async check(account: string): Promise<void> {
    const c = (await this.#read(lockKey(account))).value;
    const wait = c ? c.lockedUntil - this.now() : 0;
    if (wait > 0) throw locked(wait);
  }

  /** Counts a failure; returns how long the account now waits (0 while failures are free). */
  async failed(account: string): Promise<number> {
    const key = lockKey(account);
    return this.#cas(key, (c) => {
      const now = this.now();
      const failures = c && now - c.lastAt < LOCKOUT_FORGET_MS ? c.failures + 1 : 1;
      const over = failures - LOCKOUT_FREE_FAILURES + 1;
      const waitMs = over > 0 ? Math.min(LOCKOUT_MAX_MS, LOCKOUT_BASE_MS * 2 ** (over - 1)) : 0;
      return { failures, lastAt: now, lockedUntil: waitMs ? now + waitMs : 0 };
    }).then((c) => Math.max(0, c.lockedUntil - this.now()));
  }

  async succeeded(account: string): Promise<void> {
    await this.kv.delete(lockKey(account)).catch(() => undefined);
  }

  /** The failures counted for an account now. */
  async failures(account: string): Promise<number> {
    return (await this.#read(lockKey(account))).value?.failures ?? 0;
  }

  /**
   * Marks TOTP `step` used by `userId`; false when that step or a later one was used already (a
   * replayed code, or one a racing request accepted first).
   */
  async useTotpStep(userId: string, step: number): Promise<boolean> {
    const key = `totp.${userId}`;
    for (let i = 0; i < CAS_ATTEMPTS; i++) {
      const { value, revision } = await this.#readRaw<{ step: number }>(key);
      if (value && value.step >= step) return false;
      const data = JSON.stringify({ step });
      try {
        if (revision === 0) await this.kv.create(key, data);
        else await this.kv.update(key, data, revision);
        return true;
      } catch (err) {
        if (!isCasConflict(err)) throw unavailable(err);
      }
    }
    throw new StkError('STK_ERR_UNAVAILABLE', 'too much contention on a TOTP step', { retryAfterSeconds: 1 });
  }

  async #read(key: string): Promise<{ value: Counter | null; revision: number }> {
    return this.#readRaw<Counter>(key);
  }

  async #readRaw<T>(key: string): Promise<{ value: T | null; revision: number }> {
    let e: Awaited<ReturnType<Bucket['get']>>;
    try {
      e = await this.kv.get(key);
    } catch (err) {
      throw unavailable(err);
    }
    if (e?.operation !== 'PUT' || e.length === 0) return { value: null, revision: e?.revision ?? 0 };
    return { value: e.json<T>(), revision: e.revision };
  }

  async #cas(key: string, next: (c: Counter | null) => Counter): Promise<Counter> {
    for (let i = 0; i < CAS_ATTEMPTS; i++) {
      const { value, revision } = await this.#read(key);
      const n = next(value);
      try {
        // A deleted key has a revision but no value: update on it works too.
        if (revision === 0) await this.kv.create(key, JSON.stringify(n));
        else await this.kv.update(key, JSON.stringify(n), revision);
        return n;
      } catch (err) {
        if (!isCasConflict(err)) throw unavailable(err);
      }
    }
    throw new StkError('STK_ERR_UNAVAILABLE', 'too much contention on a sign-in counter', { retryAfterSeconds: 1 });
  }
}

function lockKey(account: string): string {
  return `lock.${createHash('sha256').update(account.trim().toLowerCase()).digest('hex')}`;
}

function locked(waitMs: number): StkError {
  return new StkError('STK_ERR_ACCOUNT_LOCKED', 'too many failed sign-ins for this account; wait and try again', {
    retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
  });
}

function isCasConflict(err: unknown): boolean {
  const m = String((err as Error)?.message ?? '');
  return /wrong last sequence|key exists|10071|10164/i.test(m);
}

function unavailable(err: unknown): StkError {
  return new StkError('STK_ERR_UNAVAILABLE', 'the sign-in store is unavailable', { bucket: PEOPLE_BUCKET, retryAfterSeconds: 1 }, { cause: err });
}
