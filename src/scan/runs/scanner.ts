import { asmSettingsDecider } from '../../../commands/attack-surface/decider.ts';
import { ASM_SETTINGS } from '../../../commands/attack-surface/events.ts';
import { scanDecider } from '../../../commands/scans/decider.ts';
import { SCAN, type ScanRequested, ScanEvents } from '../../../commands/scans/events.ts';
import { fold } from '../../domain/decider.ts';
import type { Actor } from '../../domain/events.ts';
import { derivedIds, execute } from '../../domain/execute.ts';
import { isStkError, StkError } from '../../errors.ts';
import type { Health } from '../../health.ts';
import { aggregateTypeFilter, type Consumption, EVENTS_STREAM, type EventLog, type WorkItem } from '../../log/mod.ts';
import type { Logger } from '../../logger.ts';
import type { Metrics } from '../../metrics.ts';
import type { Runtime, Started } from '../../runtime.ts';
import { checkScanRequest, DEFAULT_MAX_PROBES } from '../allowlist.ts';
import { expandPorts } from '../ports.ts';
import { runScan, type ScanOptions } from '../scan.ts';
import { storeRunItems } from './items.ts';
import { sealRun } from './seal.ts';
import { scansStreamSpec } from './stream.ts';

export const SCANNER_ACTOR: Actor = { kind: 'system', id: 'scanner' };
const CONSUMER = 'scanner';

export interface ScannerOptions {
  log: EventLog;
  logger: Logger;
  health?: Health;
  metrics?: Metrics;
  /**
   * Refuse loopback, private and link-local targets whatever the allowlist says. The scanner role
   * always does: a tenant must not be able to point the server at itself or its network.
   * @defaultValue true
   */
  refuseInternal?: boolean;
  /** @defaultValue DEFAULT_MAX_PROBES */
  maxProbes?: number;
  /** DNS servers for hostname targets. @defaultValue the system resolver */
  dnsServers?: string[];
  /** Scans run at once by this process. @defaultValue 1 */
  concurrency?: number;
  /** Network behaviour of every scan, under what a request asks for. */
  scanDefaults?: ScanOptions;
}

/** What the scanner did, for /healthz and tests. */
export interface ScannerCounters {
  completed: number;
  refused: number;
  failed: number;
  lastError: string | null;
}

/**
 * The scanner role: runs the scans operators request for a tenant's declared targets
 * (`scan.requested`), from the server. Each request is checked again, with the allowlist as it is
 * now and the names resolved now, before anything is sent on the network — with `refuseInternal`,
 * so loopback, private, link-local and metadata addresses are refused whatever the allowlist says;
 * a refused request is recorded as `scan.refused` and nothing is sent. A scan that may run is run
 * with the engine's rate and concurrency limits; its items go to SCANS and the run is sealed.
 * Requests come from a durable consumer of the `scan` aggregates, so several scanner processes share
 * them and a restarted one resumes where it stopped.
 */
export class Scanner {
  readonly counters: ScannerCounters = { completed: 0, refused: 0, failed: 0, lastError: null };
  readonly #o: ScannerOptions;
  #work: Consumption<WorkItem> | null = null;
  #running: Promise<void> | null = null;
  #stopped = false;
  readonly #abort = new AbortController();

  constructor(o: ScannerOptions) {
    this.#o = o;
  }

  async start(): Promise<void> {
    const { log } = this.#o;
    await log.streams.ensureStreamWithin(scansStreamSpec({ updateMutable: false }));
    await log.streams.ensureConsumer(EVENTS_STREAM, {
      name: CONSUMER,
      filter: aggregateTypeFilter(SCAN),
      ackPolicy: 'explicit',
      // A scan may take long; a request a dead scanner held comes back after this.
      ackWaitMs: 30 * 60_000,
      maxAckPending: Math.max(1, this.#o.concurrency ?? 1),
    });
    this.#work = await log.work(CONSUMER, { max: Math.max(1, this.#o.concurrency ?? 1) });
    const work = this.#work;
    this.#running = (async () => {
      try {
        for await (const { delivery, record } of work) {
          if (this.#stopped) break;
          const request = record.events.find((e) => e.type === ScanEvents.requested);
          if (!request) {
            delivery.ack();
            continue;
          }
          try {
            await this.handle(record.tenant, record.aggregate.id);
            delivery.ack();
          } catch (err) {
            this.counters.failed++;
            this.counters.lastError = (err as Error).message;
            this.#o.logger.error({ err, tenant: record.tenant, runId: record.aggregate.id }, 'scan request failed; retried later');
            delivery.nak(5_000);
          }
        }
      } catch (err) {
        if (!this.#stopped) this.#o.logger.error({ err }, 'scanner stopped reading requests');
      }
    })();
    this.#o.health?.register('scanner', () => ({ ok: this.counters.lastError === null, ...this.counters }));
  }

  /** Runs (or refuses) one requested scan; a request that is no longer `requested` is left as it is. */
  async handle(tenant: string, runId: string): Promise<'completed' | 'refused' | 'skipped'> {
    const { log } = this.#o;
    const head = await log.readAggregate({ tenant, aggregateType: SCAN, aggregateId: runId });
    const state = fold(scanDecider, head.events);
    const request = head.events.find((e) => e.type === ScanEvents.requested)?.data as ScanRequested | undefined;
    if (state.status !== 'requested' || !request) return 'skipped';
    const known = { version: head.version, state };
    const refuse = async (code: string, message: string, problems: Array<{ target: string; reason: string; detail: string; address?: string }>) => {
      await execute(
        log,
        { tenant, id: runId },
        scanDecider,
        { kind: 'refuse', refusal: { code, message, problems } },
        {
          actor: SCANNER_ACTOR,
          known,
          eventIds: derivedIds(tenant, runId, 'refused'),
        },
      );
      this.counters.refused++;
      this.#o.metrics?.inc('stockade_scanner_scans_total', 'Scans the scanner role finished, by outcome', { outcome: 'refused' });
      return 'refused' as const;
    };
    const ports = expandPorts(request.ports);
    if (!ports.ok) return refuse('STK_ERR_VALIDATION', `ports: ${ports.detail}`, []);
    const settings = fold(asmSettingsDecider, (await log.readAggregate({ tenant, aggregateType: ASM_SETTINGS, aggregateId: tenant })).events);
    // Checked again here, with the allowlist as it is now and the names resolved now: nothing is sent before this passes.
    const check = await checkScanRequest({ targets: request.targets, ports: ports.ports }, settings.targets, {
      refuseInternal: this.#o.refuseInternal ?? true,
      maxProbes: this.#o.maxProbes ?? DEFAULT_MAX_PROBES,
      ...(this.#o.dnsServers ? { dnsServers: this.#o.dnsServers } : {}),
    });
    if (!check.ok) return refuse(check.code, 'the scan request does not pass the allowlist check', check.problems);
    const startedAt = new Date().toISOString();
    let result: Awaited<ReturnType<typeof runScan>>;
    try {
      result = await runScan(check.plan, { ...this.#o.scanDefaults, ...request.options, signal: this.#abort.signal });
    } catch (err) {
      if (isStkError(err, 'STK_ERR_VALIDATION')) return refuse(err.code, err.message, []);
      throw err;
    }
    if (result.aborted) throw new StkError('STK_ERR_UNAVAILABLE', 'the scanner stopped during the scan; it runs again');
    await storeRunItems(log, tenant, runId, 0, result.items);
    await sealRun(log, {
      tenant,
      runId,
      source: 'scanner',
      agentId: 'scanner',
      commandId: null,
      targets: request.targets,
      ports: request.ports,
      count: result.items.length,
      startedAt,
      finishedAt: new Date().toISOString(),
      aborted: false,
      actor: SCANNER_ACTOR,
    });
    this.counters.completed++;
    this.#o.metrics?.inc('stockade_scanner_scans_total', 'Scans the scanner role finished, by outcome', { outcome: 'completed' });
    this.#o.metrics?.inc('stockade_scanner_connections_total', 'TCP connections the scanner role started', {}, result.connections);
    return 'completed';
  }

  /** Stops taking requests; a scan in progress stops starting probes and is taken up again later. */
  async close(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    await this.#work?.close();
    await this.#running;
  }
}

/** The `scanner` role of `stockade serve`: its own process where the server may reach the internet and nothing else. */
export async function startScannerRole(rt: Runtime): Promise<Started> {
  const scanner = new Scanner({ log: rt.log, logger: rt.logger.child({ component: 'scanner' }), health: rt.health, metrics: rt.metrics, refuseInternal: true });
  await scanner.start();
  rt.logger.info({}, 'scanner role taking scan requests');
  return { name: 'scanner', close: () => scanner.close() };
}
