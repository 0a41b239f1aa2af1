/**
 * Turns a group's matches into alert events through the write path: the first match of a group
 * (or the first after its alert was closed or its window ended) raises an alert, the others are
 * counted on it. Safe to repeat after a crash: the raise's id is derived from (tenant, group,
 * stream, sequence of its first match), so raising again finds the alert already there, and an
 * alert counts a stream sequence at most once, so counting again adds nothing.
 *
 * Which alert is a group's current one is kept in the KV bucket `stk-detector` (`g.<tenant>.<groupKey>`)
 * and in memory. The pointer is only a shortcut: a stale or missing one leads to a refusal or a
 * duplicate raise, after which the writer reads the alert and goes on from what it has counted.
 */
import { type AlertState, alertDecider, type MatchRef } from '../../commands/alerts/decider.ts';
import { ALERT, type AlertRaised, type EvidenceStream } from '../../commands/alerts/events.ts';
import { fold } from '../domain/decider.ts';
import type { Actor } from '../domain/events.ts';
import { derivedIds, type Executed, execute } from '../domain/execute.ts';
import { isStkError, StkError } from '../errors.ts';
import type { Bucket, EventLog } from '../log/mod.ts';
import { type AlertGroup, type GroupInput, groupKey, groupMatch } from './group.ts';
import type { Match } from './types.ts';
import { severityOf } from './mod.ts';

/** The detector writes as the system, under its own name. */
export const DETECTOR_ACTOR: Actor = { kind: 'system', id: 'detector' };

/** KV bucket of the detector: group pointers and partition checkpoints. */
export const DETECTOR_BUCKET = 'stk-detector';

/** Matches of one group from one stream, in stream order, to be written together. */
export interface GroupMatches {
  tenant: string;
  /** The host: the agent id. */
  agentId: string;
  hostname: string | null;
  /** The first match: rule, level, fields (the alert shows them). */
  match: Match;
  stream: EvidenceStream;
  refs: MatchRef[];
}

/** A group's current alert, and the group as `groupMatch` keeps it. */
interface Pointer {
  alertId: string;
  group: AlertGroup;
}

/** What one `write` did, for counters and tests. */
export interface WriteOutcome {
  raised: string[];
  counted: number;
}

const MAX_POINTERS = 100_000;
const MAX_STEPS = 64;

/** Writes detector alerts for the groups of one or more partitions. */
export class AlertWriter {
  readonly #pointers = new Map<string, Pointer>();
  readonly #known = new Map<string, { version: number; state: AlertState }>();
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly log: EventLog,
    private readonly kv: Bucket,
  ) {}

  /** Writes one group's matches; calls for the same group are run one after the other. */
  write(g: GroupMatches): Promise<WriteOutcome> {
    const key = `${g.tenant}.${groupKey(g.match.ruleId, g.agentId, g.match.groupValues)}`;
    const prev = this.#locks.get(key) ?? Promise.resolve();
    const run = prev.then(
      () => this.#write(g, key),
      () => this.#write(g, key),
    );
    this.#locks.set(key, run);
    void run.finally(() => {
      if (this.#locks.get(key) === run) this.#locks.delete(key);
    });
    return run;
  }

  async #write(g: GroupMatches, key: string): Promise<WriteOutcome> {
    const out: WriteOutcome = { raised: [], counted: 0 };
    const refs = g.refs;
    const input: GroupInput = { ruleId: g.match.ruleId, host: g.agentId, groupValues: g.match.groupValues, windowMs: g.match.windowMs };
    let ptr: Pointer | null = await this.#pointer(key);
    let i = 0;
    for (let step = 0; i < refs.length; step++) {
      if (step > MAX_STEPS) throw new StkError('STK_ERR_INTERNAL', 'alert writer made no progress on a group', { tenant: g.tenant, rule: g.match.ruleId });
      // `groupMatch` decides, match by match, whether the group's current alert takes it.
      const run = segment(ptr?.group, input, refs, i);
      if (ptr && run.action === 'update') {
        const r = await this.#occur(g, ptr.alertId, refs.slice(i, run.end));
        if (r.ok) {
          out.counted += r.counted;
          ptr = { alertId: ptr.alertId, group: run.group };
          this.#cachePointer(key, ptr);
          i = run.end;
          continue;
        }
        // Closed (the pointer cannot know), or the alert's own window ended: go on after what it counted.
        i = firstUncounted(refs, i, r.state, g.stream);
        ptr = { alertId: ptr.alertId, group: { ...ptr.group, closed: true } };
        continue;
      }
      const first = refs[i]!;
      const alertId = derivedIds(g.tenant, 'alert', key, g.stream, String(first.seq))(0);
      const raised = await this.#raise(g, alertId, refs.slice(i, run.end));
      ptr = { alertId, group: run.group };
      await this.#savePointer(key, ptr);
      if (raised) {
        out.raised.push(alertId);
        out.counted += run.end - i;
        i = run.end;
      } else {
        // Raised before (a replay): count the run on it, which adds only what it lacks.
        ptr = { alertId, group: { ...run.group, count: 1, lastSeenMs: first.atMs } };
      }
    }
    return out;
  }

  async #raise(g: GroupMatches, alertId: string, refs: MatchRef[]): Promise<boolean> {
    const m = g.match;
    const first = refs[0]!;
    const last = refs.reduce((a, r) => Math.max(a, r.atMs), first.atMs);
    const alert: AlertRaised = {
      agentId: g.agentId,
      product: m.product,
      rule: m.ruleId,
      severity: severityOf(m.level),
      title: m.title,
      details: { ...m.fields },
      observedAt: new Date(first.atMs).toISOString(),
      detection: {
        ruleId: m.ruleId,
        ruleVersion: m.ruleVersion,
        overrideVersion: m.overrideVersion,
        attack: [...m.attack],
        tags: [...m.tags],
        logsource: m.logsource,
        hostname: g.hostname,
        groupKey: groupKey(m.ruleId, g.agentId, m.groupValues),
        groupValues: [...m.groupValues],
        windowMs: m.windowMs,
        firstSeenAt: new Date(first.atMs).toISOString(),
        lastSeenAt: new Date(last).toISOString(),
        refs: refs.map((r) => ({ stream: g.stream, seq: r.seq, ...(r.item !== undefined ? { item: r.item } : {}) })),
      },
    };
    const r = await execute(
      this.log,
      { tenant: g.tenant, id: alertId },
      alertDecider,
      { kind: 'detect', alert },
      {
        actor: DETECTOR_ACTOR,
        known: 'new',
        idempotent: true,
        eventIds: derivedIds(g.tenant, alertId),
      },
    );
    if (r.duplicate) {
      this.#known.delete(alertId);
      return false;
    }
    this.#remember(alertId, { version: 0, state: alertDecider.initialState() }, r);
    return true;
  }

  /** Counts `refs` on the alert; a refusal (closed, window ended) comes back with the alert's state. */
  async #occur(g: GroupMatches, alertId: string, refs: MatchRef[]): Promise<{ ok: true; counted: number } | { ok: false; state: AlertState }> {
    const known = this.#known.get(alertId) ?? (await this.#read(g.tenant, alertId));
    try {
      const r = await execute(
        this.log,
        { tenant: g.tenant, id: alertId },
        alertDecider,
        { kind: 'occur', stream: g.stream, matches: refs },
        {
          actor: DETECTOR_ACTOR,
          known,
        },
      );
      this.#remember(alertId, known, r);
      return { ok: true, counted: r.events.reduce((n, e) => n + ((e.data as { seqs?: number[] }).seqs?.length ?? 0), 0) };
    } catch (err) {
      if (!isStkError(err, 'STK_ERR_INVALID_TRANSITION') && !isStkError(err, 'STK_ERR_NOT_FOUND')) throw err;
      this.#known.delete(alertId);
      return { ok: false, state: (await this.#read(g.tenant, alertId)).state };
    }
  }

  async #read(tenant: string, alertId: string): Promise<{ version: number; state: AlertState }> {
    const r = await this.log.readAggregate({ tenant, aggregateType: ALERT, aggregateId: alertId });
    return { version: r.version, state: fold(alertDecider, r.events) };
  }

  /** Caches the alert's state after `r`, unless others wrote in between (then it is read next time). */
  #remember(alertId: string, before: { version: number; state: AlertState }, r: Executed): void {
    if (r.events.length === 0) {
      if (r.position === 0 && r.version === before.version) this.#known.set(alertId, before);
      return;
    }
    if (r.version !== before.version + r.events.length) {
      this.#known.delete(alertId);
      return;
    }
    this.#known.delete(alertId);
    this.#known.set(alertId, { version: r.version, state: r.events.reduce(alertDecider.evolve, before.state) });
    if (this.#known.size > MAX_POINTERS) this.#known.delete(this.#known.keys().next().value!);
  }

  async #pointer(key: string): Promise<Pointer | null> {
    const hit = this.#pointers.get(key);
    if (hit) return hit;
    const e = await this.kv.get(`g.${key}`).catch(() => null);
    if (e?.operation !== 'PUT' || e.value.length === 0) return null;
    try {
      const p = JSON.parse(e.string()) as Pointer;
      this.#cachePointer(key, p);
      return p;
    } catch {
      return null;
    }
  }

  async #savePointer(key: string, p: Pointer): Promise<void> {
    this.#cachePointer(key, p);
    await this.kv.put(`g.${key}`, JSON.stringify(p));
  }

  #cachePointer(key: string, p: Pointer): void {
    this.#pointers.delete(key);
    this.#pointers.set(key, p);
    if (this.#pointers.size > MAX_POINTERS) this.#pointers.delete(this.#pointers.keys().next().value!);
  }
}

/**
 * The run of `refs` from `i` that `groupMatch` gives one alert: the current one (`update`) while
 * it takes them, or a new one (`raise`) from `refs[i]` on; with the group as it is after the run.
 */
function segment(
  group: AlertGroup | undefined,
  input: GroupInput,
  refs: readonly MatchRef[],
  i: number,
): { action: 'raise' | 'update'; end: number; group: AlertGroup } {
  const first = groupMatch(group, input, refs[i]!.atMs);
  let g = first.group;
  let j = i + 1;
  for (; j < refs.length; j++) {
    const next = groupMatch(g, input, refs[j]!.atMs);
    if (next.action === 'raise') break;
    g = next.group;
  }
  return { action: first.action, end: j, group: g };
}

/** Index of the first ref from `i` on that the alert has not counted. */
function firstUncounted(refs: readonly MatchRef[], i: number, s: AlertState, stream: EvidenceStream): number {
  const counted = s.group?.lastSeq[stream] ?? 0;
  let k = i;
  while (k < refs.length && refs[k]!.seq <= counted) k++;
  return k;
}
