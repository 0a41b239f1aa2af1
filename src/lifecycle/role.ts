import { IngressFeed } from '../ingress/feed.ts';
import { AgentCommandOutbox } from '../ingress/outbox.ts';
import { replayDestructions } from '../privacy/destructions.ts';
import type { Runtime, Started } from '../runtime.ts';
import { expireCommands } from './commands.ts';
import { EvidenceStore } from '../evidence/store.ts';
import { applyRetention, evidenceTarget, scanItemsTarget, telemetryTarget, type RetentionTarget } from './retention.ts';

/**
 * Stores outside EVENTS that age out by kind: telemetry and evidence bytes; scan items add theirs
 * where they are kept.
 */
export const RETENTION_TARGETS: Array<(rt: Runtime) => RetentionTarget> = [
  (rt) => telemetryTarget(rt.streams),
  (rt) => evidenceTarget(new EvidenceStore(rt.streams, { replicas: rt.config.replicas })),
  (rt) => scanItemsTarget(rt.streams),
];

/**
 * The lifecycle role: on start it replays every recorded key destruction against the key store (a
 * restored or older key store never makes erased fields readable again), then every
 * `--retention-interval` it applies retention and records expired agent commands. Every act it
 * records has an id derived from what it does, so several processes running the role write each
 * act once.
 */
export async function startLifecycleRole(rt: Runtime): Promise<Started> {
  const logger = rt.logger.child({ component: 'lifecycle' });
  const cfg = rt.config.lifecycle;
  const keys = rt.privacy?.keys ?? null;
  if (keys) {
    const n = await replayDestructions(rt.log, keys);
    logger.info({ destructions: n }, 'recorded key destructions enforced');
  }
  // The unanswered commands, read from the log like the ingress reads them.
  const feed = new IngressFeed(rt.log, logger);
  const outbox = new AgentCommandOutbox(feed, rt.log);
  await feed.start();
  const targets = RETENTION_TARGETS.map((t) => t(rt));
  let last: { at: string; error?: string } | null = null;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;
  const pass = async (): Promise<void> => {
    const now = new Date();
    try {
      const r = await applyRetention({ log: rt.log, keys, now, defaults: cfg.retentionDays, targets });
      const expired = await expireCommands({ log: rt.log, outbox, now });
      last = { at: now.toISOString() };
      if (r.destroyed.length || r.removed.length || expired) logger.info({ ...r, expiredCommands: expired }, 'lifecycle pass');
    } catch (err) {
      last = { at: now.toISOString(), error: (err as Error).message };
      logger.error({ err }, 'lifecycle pass failed; next pass at the next interval');
    }
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = pass().finally(schedule);
    }, cfg.retentionIntervalMs);
  };
  running = pass().finally(schedule);
  rt.health.register('lifecycle', () => ({ ok: !last?.error, lastPass: last?.at ?? null, ...(last?.error ? { error: last.error } : {}) }));
  return {
    name: 'lifecycle',
    async close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      await feed.close();
    },
  };
}
