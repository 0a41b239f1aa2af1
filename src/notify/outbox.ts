/**
 * The outbox of one partition: it reads the partition's alert, delivery and channel events in
 * stream order (the detector worker hands them over), decides per channel whether an alert group
 * deserves a message (`routeAlert`: severity, thresholds, quiet hours), queues each message as a
 * `delivery` aggregate, attempts it, and records every attempt as an event, with retries on the
 * back-off of `nextAttempt` and a dead letter at the end.
 *
 * Time comes from the clock it is given: attempts are due at `nextAtMs` and are made by `tick(now)`
 * (and at once when a message is queued, if `eager`), so a test drives retries by moving its clock.
 * State is derived from the events and checkpointed with the partition; what it writes is
 * idempotent (a delivery's id is derived from alert, channel and the count the channel was told;
 * an attempt's record from its number), so reading the events again after a crash writes nothing
 * twice. An attempt whose record was lost in a crash is made again: delivery is at least once,
 * and receivers drop a repeat by its delivery id.
 */
import { type DeliveryState, deliveryDecider } from '../../commands/deliveries/decider.ts';
import { type ChannelProblem, DELIVERY, type DeliveryAttempted, DeliveryEvents, type DeliveryQueued } from '../../commands/deliveries/events.ts';
import { type ChannelsState, channelsDecider } from '../../commands/notify/decider.ts';
import { CHANNELS_ID, NOTIFY } from '../../commands/notify/events.ts';
import { ALERT, type AlertOccurred, type AlertRaised, AlertEvents } from '../../commands/alerts/events.ts';
import { fold } from '../domain/decider.ts';
import type { Actor, EventEnvelope } from '../domain/events.ts';
import { derivedIds, execute } from '../domain/execute.ts';
import { isStkError } from '../errors.ts';
import type { EventLog, LogRecord } from '../log/mod.ts';
import type { Logger } from '../logger.ts';
import { attemptDelivery, type Delivery, type TransportOptions } from './deliver.ts';
import type { DeliveryResult } from './outcome.ts';
import type { AlertGroup } from './render.ts';
import { DEFAULT_RETRY_POLICY, nextAttempt, type RetryPolicy } from './retry.ts';
import { routeAlert } from './routing.ts';
import { openChannel, type SecretBox, type StoredChannel } from './secrets.ts';
import type { ChannelConfig, Severity } from './settings.ts';

/** The outbox writes as the system, under its own name. */
export const OUTBOX_ACTOR: Actor = { kind: 'system', id: 'outbox' };

/** An alert group as the outbox follows it, and what each channel was told. */
export interface AlertProgress {
  tenant: string;
  group: AlertGroup;
  /** Count each channel was last told (by channel id). */
  notified: Record<string, number>;
  /** Channels holding a message until quiet hours end (by channel id, ms). */
  held: Record<string, number>;
  touchedMs: number;
}

/** A queued message not yet delivered or given up. */
export interface PendingDelivery {
  tenant: string;
  channelId: string;
  delivery: Delivery;
  /** The delivery aggregate's version. */
  version: number;
  attempts: number;
  roundAttempts: number;
  roundStartedMs: number;
  nextAtMs: number;
}

/** The outbox's state, as a checkpoint holds it. */
export interface OutboxState {
  alerts: Record<string, AlertProgress>;
  pending: Record<string, PendingDelivery>;
}

export interface OutboxOptions {
  log: EventLog;
  box: SecretBox;
  transport: TransportOptions;
  /** @defaultValue DEFAULT_RETRY_POLICY */
  policy?: RetryPolicy;
  /** Milliseconds since the epoch: the outbox's time. */
  clock: () => number;
  /** The host name of an agent, when known (alerts an agent reported carry only its id). */
  hostnameOf?: (tenant: string, agentId: string) => string | null;
  /** Attempt a queued message at once rather than at the next tick. */
  eager: boolean;
  /** Attempts in flight at most. @defaultValue 8 */
  concurrency?: number;
  logger?: Logger;
}

/** Counters for metrics and tests. */
export interface OutboxCounters {
  queued: number;
  attempts: number;
  delivered: number;
  deadLettered: number;
}

/** How long after a failure to record an attempt it is made again. */
const RECORD_RETRY_MS = 5_000;
/** An alert group is forgotten this long after its last change (longer than any grouping window). */
const FORGET_MS = 8 * 86_400_000;

/** The rule version of a group an agent raised itself: such an alert never occurs again (a new report raises a new alert). */
const AGENT_RAISED = 'agent';

/**
 * Whether the outbox still needs a group once it has been routed: a detection group can occur
 * again (and cross a threshold), and a message held for quiet hours must go out when they end. An
 * alert an agent raised, with nothing held, has had its say: keeping it would grow the outbox, its
 * every tick and its every checkpoint with each alert of the last `FORGET_MS`.
 */
function followed(p: AlertProgress): boolean {
  if (p.group.ruleVersion !== AGENT_RAISED) return true;
  for (const _ in p.held) return true;
  return false;
}

/** A tenant's channels, read from the log on first use and dropped when they change. */
export class ChannelCache {
  readonly #cache = new Map<string, Promise<Map<string, StoredChannel>>>();

  constructor(private readonly log: EventLog) {}

  get(tenant: string): Promise<Map<string, StoredChannel>> {
    let p = this.#cache.get(tenant);
    if (!p) {
      p = this.log.readAggregate({ tenant, aggregateType: NOTIFY, aggregateId: CHANNELS_ID }).then((r) => {
        const s: ChannelsState = fold(channelsDecider, r.events);
        return new Map(Object.entries(s.channels));
      });
      p.catch(() => this.#cache.delete(tenant));
      this.#cache.set(tenant, p);
    }
    return p;
  }

  invalidate(tenant: string): void {
    this.#cache.delete(tenant);
  }
}

/** See the module comment. */
export class Outbox {
  readonly #o: OutboxOptions;
  readonly #channels: ChannelCache;
  #alerts = new Map<string, AlertProgress>();
  #pending = new Map<string, PendingDelivery>();
  /** Versions of deliveries this outbox wrote itself, so their echo from the stream is not applied twice. */
  readonly #written = new Map<string, number>();
  readonly #inflight = new Map<string, Promise<void>>();
  readonly counters: OutboxCounters = { queued: 0, attempts: 0, delivered: 0, deadLettered: 0 };
  #closed = false;

  constructor(o: OutboxOptions) {
    this.#o = o;
    this.#channels = new ChannelCache(o.log);
  }

  /** The state for a checkpoint. */
  snapshot(): OutboxState {
    return { alerts: Object.fromEntries(this.#alerts), pending: Object.fromEntries(this.#pending) };
  }

  /** Takes a checkpoint's state (before any record is handed over). */
  restore(s: OutboxState | undefined): void {
    // A checkpoint of an earlier build kept every alert an agent raised: only what is followed stays.
    this.#alerts = new Map(Object.entries(s?.alerts ?? {}).filter(([, p]) => followed(p)));
    this.#pending = new Map(Object.entries(s?.pending ?? {}));
  }

  /** Messages queued and not yet delivered or given up. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Applies one EVENTS record of the partition, in stream order (the detector hands it commit by commit: `commitsOf`). */
  async onRecord(r: LogRecord): Promise<void> {
    switch (r.aggregate.type) {
      case NOTIFY:
        this.#channels.invalidate(r.tenant);
        return;
      case ALERT:
        for (const e of r.events) await this.#onAlert(r.tenant, e);
        return;
      case DELIVERY:
        for (const e of r.events) await this.#onDelivery(r.tenant, e);
        return;
    }
  }

  /**
   * What the time `nowMs` makes due: messages held for quiet hours are decided again, and attempts
   * whose time has come are started (at most `concurrency` at once). Resolves once they are started;
   * `idle()` waits for them to finish.
   */
  async tick(nowMs = this.#o.clock()): Promise<void> {
    for (const [key, p] of this.#alerts) {
      if (nowMs - p.touchedMs > FORGET_MS) {
        this.#alerts.delete(key);
        continue;
      }
      const due: string[] = [];
      for (const id in p.held) if (p.held[id]! <= nowMs) due.push(id);
      if (due.length === 0) continue;
      for (const id of due) delete p.held[id];
      await this.#route(p, nowMs, new Set(due));
      if (!followed(p)) this.#alerts.delete(key);
    }
    this.#startDue(nowMs);
  }

  /** Resolves once no attempt is in flight. */
  async idle(): Promise<void> {
    while (this.#inflight.size) await Promise.allSettled([...this.#inflight.values()]);
  }

  /** Stops starting attempts and waits for those in flight. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.idle();
  }

  async #onAlert(tenant: string, e: EventEnvelope): Promise<void> {
    const key = `${tenant}/${e.aggregate.id}`;
    const atMs = Date.parse(e.at);
    switch (e.type) {
      case AlertEvents.raised: {
        const d = e.data as AlertRaised;
        const det = d.detection;
        const group: AlertGroup = {
          tenant,
          alertId: e.aggregate.id,
          ruleId: d.rule,
          ruleVersion: det?.ruleVersion ?? AGENT_RAISED,
          title: d.title,
          severity: d.severity,
          attack: det?.attack ?? [],
          host: det?.hostname ?? this.#o.hostnameOf?.(tenant, d.agentId) ?? d.agentId,
          count: det ? det.refs.length : 1,
          firstSeen: det?.firstSeenAt ?? d.observedAt,
          lastSeen: det?.lastSeenAt ?? d.observedAt,
        };
        const p: AlertProgress = { tenant, group, notified: {}, held: {}, touchedMs: atMs };
        this.#alerts.set(key, p);
        await this.#route(p, atMs);
        if (!followed(p)) this.#alerts.delete(key);
        return;
      }
      case AlertEvents.occurred: {
        const p = this.#alerts.get(key);
        if (!p) return;
        const d = e.data as AlertOccurred;
        p.group = { ...p.group, count: d.count, lastSeen: [p.group.lastSeen, d.lastSeenAt].sort()[1]! };
        p.touchedMs = atMs;
        await this.#route(p, atMs);
        return;
      }
      case AlertEvents.acknowledged:
      case AlertEvents.resolved:
        // Someone is on it: no more messages about this group.
        this.#alerts.delete(key);
        return;
    }
  }

  /** Decides for each channel of the tenant (or those of `only`) at `nowMs`, and queues what is to be sent. */
  async #route(p: AlertProgress, nowMs: number, only?: ReadonlySet<string>): Promise<void> {
    const channels = await this.#channels.get(p.tenant);
    for (const ch of channels.values()) {
      if (only && !only.has(ch.id)) continue;
      const notifiedCount = p.notified[ch.id] ?? 0;
      const decision = routeAlert(ch.routing, ch.enabled, { severity: p.group.severity as Severity, count: p.group.count, notifiedCount }, new Date(nowMs));
      if (decision.action === 'hold') p.held[ch.id] = decision.until.getTime();
      else if (decision.action === 'send') await this.#queue(p, ch, notifiedCount);
    }
  }

  async #queue(p: AlertProgress, ch: StoredChannel, notifiedCount: number): Promise<void> {
    const id = derivedIds(p.tenant, p.group.alertId, ch.id, String(notifiedCount))(0);
    const data: DeliveryQueued = {
      alertId: p.group.alertId,
      channelId: ch.id,
      channelKind: ch.kind,
      channelName: ch.name,
      recipients: ch.kind === 'email' ? [...ch.settings.to] : [ch.settings.host],
      group: { ...p.group },
      notifiedCount,
    };
    const r = await execute(
      this.#o.log,
      { tenant: p.tenant, id },
      deliveryDecider,
      { kind: 'queue', delivery: data },
      {
        actor: OUTBOX_ACTOR,
        known: 'new',
        idempotent: true,
        eventIds: derivedIds(p.tenant, id, 'queued'),
      },
    );
    p.notified[ch.id] = Math.max(notifiedCount, p.group.count);
    delete p.held[ch.id];
    // Queued before (reading the stream again after a crash): its own events follow in the stream.
    if (r.duplicate) return;
    this.counters.queued++;
    const now = this.#o.clock();
    this.#written.set(id, r.version);
    this.#pending.set(id, {
      tenant: p.tenant,
      channelId: ch.id,
      delivery: { id, group: data.group, notifiedCount },
      version: r.version,
      attempts: 0,
      roundAttempts: 0,
      roundStartedMs: now,
      nextAtMs: now,
    });
    if (this.#o.eager) this.#startDue(now);
  }

  async #onDelivery(tenant: string, e: EventEnvelope): Promise<void> {
    const id = e.aggregate.id;
    const mine = this.#written.get(id);
    if (mine !== undefined && e.version <= mine) {
      if (e.version === mine) this.#written.delete(id);
      return;
    }
    const atMs = Date.parse(e.at);
    switch (e.type) {
      case DeliveryEvents.queued: {
        const d = e.data as DeliveryQueued;
        if (this.#pending.has(id)) return;
        this.#pending.set(id, {
          tenant,
          channelId: d.channelId,
          delivery: { id, group: d.group, notifiedCount: d.notifiedCount },
          version: e.version,
          attempts: 0,
          roundAttempts: 0,
          roundStartedMs: atMs,
          nextAtMs: atMs,
        });
        const p = this.#alerts.get(`${tenant}/${d.alertId}`);
        if (p) p.notified[d.channelId] = Math.max(p.notified[d.channelId] ?? 0, d.group.count);
        return;
      }
      case DeliveryEvents.attempted: {
        const p = this.#pending.get(id);
        if (!p) return;
        const a = e.data as DeliveryAttempted;
        // Already applied (a checkpoint taken after this outbox's own attempt): once only.
        if (a.attempt <= p.attempts) return;
        if (a.outcome === 'delivered' || a.deadLetter) {
          this.#pending.delete(id);
          return;
        }
        Object.assign(p, { version: e.version, attempts: a.attempt, roundAttempts: p.roundAttempts + 1, nextAtMs: a.retryAt ? Date.parse(a.retryAt) : atMs });
        return;
      }
      case DeliveryEvents.requeued: {
        // The queued event is long past: the delivery is read back whole.
        await this.#reload(tenant, id);
        return;
      }
    }
  }

  async #reload(tenant: string, id: string): Promise<void> {
    const r = await this.#o.log.readAggregate({ tenant, aggregateType: DELIVERY, aggregateId: id });
    const q = r.events.find((e) => e.type === DeliveryEvents.queued);
    const s: DeliveryState = fold(deliveryDecider, r.events);
    if (!q || s.status !== 'pending') return;
    const d = q.data as DeliveryQueued;
    const started = Date.parse(s.roundStartedAt ?? q.at);
    this.#pending.set(id, {
      tenant,
      channelId: d.channelId,
      delivery: { id, group: d.group, notifiedCount: d.notifiedCount },
      version: r.version,
      attempts: s.attempts,
      roundAttempts: s.roundAttempts,
      roundStartedMs: started,
      nextAtMs: started,
    });
    if (this.#o.eager) this.#startDue(this.#o.clock());
  }

  #startDue(nowMs: number): void {
    const limit = this.#o.concurrency ?? 8;
    for (const [id, p] of this.#pending) {
      if (this.#closed || this.#inflight.size >= limit) return;
      if (p.nextAtMs > nowMs || this.#inflight.has(id)) continue;
      const run = this.#attempt(p, nowMs)
        .catch((err: unknown) => {
          // The log did not take the record: try again a little later, not in a tight loop.
          p.nextAtMs = this.#o.clock() + RECORD_RETRY_MS;
          this.#o.logger?.warn({ err, deliveryId: id }, 'delivery attempt not recorded; it is made again');
        })
        .finally(() => {
          this.#inflight.delete(id);
          if (this.#o.eager && !this.#closed) this.#startDue(this.#o.clock());
        });
      this.#inflight.set(id, run);
    }
  }

  async #attempt(p: PendingDelivery, nowMs: number): Promise<void> {
    const id = p.delivery.id;
    const n = p.attempts + 1;
    const now = new Date(nowMs);
    const opened = await this.#open(p);
    let attemptFields: Pick<DeliveryAttempted, 'outcome' | 'reason' | 'status' | 'detail' | 'retryAt' | 'deadLetter'>;
    if ('dead' in opened) {
      attemptFields = { outcome: 'permanent', reason: opened.dead, status: null, detail: opened.detail, retryAt: null, deadLetter: opened.dead };
    } else {
      const result = await attemptDelivery(opened.channel, p.delivery, now, this.#o.transport);
      attemptFields = this.#judge(result, p, now);
    }
    this.counters.attempts++;
    const { retryAt, deadLetter } = attemptFields;
    const attempt: DeliveryAttempted = { attempt: n, at: now.toISOString(), ...attemptFields };
    const state: DeliveryState = {
      status: 'pending',
      attempts: p.attempts,
      roundAttempts: p.roundAttempts,
      roundStartedAt: new Date(p.roundStartedMs).toISOString(),
    };
    const r = await execute(
      this.#o.log,
      { tenant: p.tenant, id },
      deliveryDecider,
      { kind: 'record-attempt', attempt },
      {
        actor: OUTBOX_ACTOR,
        known: { version: p.version, state },
        eventIds: derivedIds(p.tenant, id, 'attempt', String(n)),
      },
    );
    this.#written.set(id, r.version);
    if (attempt.outcome === 'delivered') this.counters.delivered++;
    if (deadLetter) this.counters.deadLettered++;
    if (attempt.outcome === 'delivered' || deadLetter) this.#pending.delete(id);
    else Object.assign(p, { version: r.version, attempts: n, roundAttempts: p.roundAttempts + 1, nextAtMs: Date.parse(retryAt!) });
  }

  /** The record of an attempt's result: delivered, or when to try again, or the dead letter. */
  #judge(
    result: DeliveryResult,
    p: PendingDelivery,
    now: Date,
  ): Pick<DeliveryAttempted, 'outcome' | 'reason' | 'status' | 'detail' | 'retryAt' | 'deadLetter'> {
    if (result.outcome === 'delivered')
      return { outcome: 'delivered', reason: null, status: result.status, detail: result.detail ?? null, retryAt: null, deadLetter: null };
    const step = nextAttempt(
      { deliveryId: p.delivery.id, attempts: p.roundAttempts + 1, createdAt: new Date(p.roundStartedMs) },
      result,
      now,
      this.#o.policy ?? DEFAULT_RETRY_POLICY,
    );
    return {
      outcome: result.outcome,
      reason: result.reason,
      status: result.status,
      detail: result.detail,
      retryAt: 'retryAt' in step ? step.retryAt.toISOString() : null,
      deadLetter: 'deadLetter' in step ? step.deadLetter : null,
    };
  }

  async #open(p: PendingDelivery): Promise<{ channel: ChannelConfig } | { dead: ChannelProblem; detail: string }> {
    const stored = (await this.#channels.get(p.tenant)).get(p.channelId);
    if (!stored) return { dead: 'channel-removed', detail: 'the channel was removed after the message was queued' };
    if (!stored.enabled) return { dead: 'channel-disabled', detail: 'the channel was turned off after the message was queued' };
    try {
      return { channel: openChannel(this.#o.box, stored) };
    } catch (err) {
      if (!isStkError(err, 'STK_ERR_NOTIFY_SECRET_UNREADABLE')) throw err;
      return { dead: 'secret-unreadable', detail: err.message };
    }
  }
}
