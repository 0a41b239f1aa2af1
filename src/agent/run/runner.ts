import { readFile } from 'node:fs/promises';
import { arch, cpus, hostname, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { type AgentState, saveAgentState, type WireEvent } from '../client.ts';
import type { AgentConfig } from '../../domain/agent-config.ts';
import { StkError } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { certificateFacts } from '../../pki/agent-key.ts';
import type { DirectoryConfig } from '../directory/mod.ts';
import type { HostRoot } from '../host-root.ts';
import { jitteredDelayMs, Scheduler } from '../scheduler.ts';
import { StateDir, writeFileAtomic } from '../state.ts';
import { type AgentCommand, resultText, runAction } from './actions.ts';
import { IngressClient } from './client.ts';
import { posterOf } from '../commands/context.ts';
import { type Collector, connectionCollector, directoryCollector, localAccountCollector, patchInventoryCollector, processCollector } from './collectors.ts';
import { type OutEntry, Outbox } from './outbox.ts';
import { commandExpired } from '../machine.ts';

export const AGENT_VERSION = '0.2.0';

/** How the agent is run (flags of `stockade agent run`). */
export interface RunnerOptions {
  /** The enrolled agent's folder: key, certificate, `state/` and `spool/` (0700). */
  dir: string;
  root: HostRoot;
  /** Bound of the disk spool. @defaultValue 64 MiB */
  spoolMaxBytes?: number;
  /** The directory bind password (never sent by the server). @defaultValue `<dir>/directory.password` */
  directoryPasswordFile?: string;
  /** Overrides the configured heartbeat and command intervals (tests, a first install). */
  intervalMs?: number;
  nft?: string;
  /** One JSON log line. */
  log(fields: Record<string, unknown>): void;
}

/** Commands the agent ran, and results not yet posted: a restart runs no command twice. */
interface CommandsState {
  done: string[];
  /** A command being run when the agent stopped; answered `failed` instead of run again. */
  running: string | null;
  results: Record<string, { outcome: 'succeeded' | 'failed'; output: string }>;
  /**
   * Commands that run beside the command loop because they may wait long (install-patches waits for
   * its maintenance window): started again after a restart, when they wait for their window anew.
   */
  background?: AgentCommand[];
}

/** Actions that run beside the serial command loop rather than hold it up. */
const BACKGROUND_ACTIONS: ReadonlySet<string> = new Set(['install-patches']);

const DONE_KEPT = 1000;
/**
 * How long each command poll asks the ingress to hold it (seconds; the ingress's most, which is
 * under the 60 s idle timeout of common load balancers). An ingress that holds polls for less
 * answers earlier, and a full wait of its own still counts as one (asked again at once).
 */
export const COMMAND_WAIT_S = 55;

/**
 * The agent (`stockade agent run`): asks the ingress for its configuration, runs the collectors of
 * the products that are on (on intervals with jitter, state on disk), sends everything through the
 * disk spool in order with back-off, runs its commands with the host's own tools and posts their
 * real results, reports its own health, and renews its certificate before it expires.
 */
export class AgentRunner {
  readonly #o: RunnerOptions;
  readonly #state: StateDir;
  readonly #client: IngressClient;
  readonly #outbox: Outbox;
  readonly #collectors: Collector[];
  readonly #scheduler: Scheduler;
  #config: AgentConfig | null = null;
  #commands: CommandsState = { done: [], running: null, results: {} };
  readonly #background = new Map<string, { abort: AbortController; run: Promise<void> }>();
  #reportedSkew: number | null = null;
  #reportedDrops = 0;
  #revoked = false;
  #stopping: Promise<void> | null = null;
  /** The command long-poll loop, and what ends its wait when the agent stops. */
  #commandLoop: Promise<void> | null = null;
  readonly #commandAbort = new AbortController();
  /** This process's start: a new value tells the server the agent started again. */
  readonly #startedAt = new Date().toISOString();
  #stopped!: () => void;
  /** Resolves when the agent has stopped: by `stop()`, or because it was revoked. */
  readonly done: Promise<'stopped' | 'revoked'>;

  private constructor(o: RunnerOptions, state: StateDir, client: IngressClient, outbox: Outbox) {
    this.#o = o;
    this.#state = state;
    this.#client = client;
    this.#outbox = outbox;
    const ctx = {
      root: o.root,
      outbox,
      config: () => this.#config!,
      directoryConfig: () => this.#directoryConfig(),
      poster: () => posterOf(this.#client),
    };
    this.#collectors = [processCollector(ctx), connectionCollector(ctx), localAccountCollector(ctx), directoryCollector(ctx), patchInventoryCollector(ctx)];
    this.#scheduler = new Scheduler({ onError: (name, err) => this.#taskFailed(name, err) });
    this.done = new Promise((resolve) => {
      this.#stopped = () => resolve(this.#revoked ? 'revoked' : 'stopped');
    });
  }

  /** Opens the agent's folder (its enrollment, state and spool) without starting anything. */
  static async open(o: RunnerOptions, agent: AgentState): Promise<AgentRunner> {
    const state = await StateDir.open(join(o.dir, 'state'));
    const client = new IngressClient(agent);
    let runner: AgentRunner | null = null;
    const outbox = await Outbox.open({
      dir: join(o.dir, 'spool'),
      maxBytes: o.spoolMaxBytes ?? 64 * 1024 * 1024,
      state,
      client,
      events: {
        sent: (e) => runner?.onSent(e),
        refused: (e, answer) => o.log({ msg: 'batch refused', kind: e.kind, batchId: e.batch.batchId, status: answer.status, answer: answer.body }),
        deferred: (e, status, delayMs) => o.log({ msg: 'ingress unavailable; batch kept in the spool', kind: e.kind, status, retryInMs: delayMs }),
        revoked: () => runner?.onRevoked(),
      },
    });
    runner = new AgentRunner(o, state, client, outbox);
    return runner;
  }

  get agentId(): string {
    return this.#client.agentId;
  }

  /** The configuration in use (null before the first one). */
  get config(): AgentConfig | null {
    return this.#config;
  }

  /** Starts the agent; resolves once it runs. */
  async start(): Promise<void> {
    const o = this.#o;
    const isolation = await this.#state.read<{ addresses: string[] }>('isolation');
    if (isolation?.addresses?.length) this.#client.pin(isolation.addresses);
    this.#commands = (await this.#state.read<CommandsState>('commands')) ?? this.#commands;
    for (const c of this.#collectors) await c.open();
    for (const c of this.#commands.background ?? []) this.#startBackground(c);
    await this.#renewIfDue();
    this.#config = await this.#state.read<AgentConfig>('config');
    try {
      await this.#refreshConfig();
    } catch (err) {
      // A revoked agent stops here; a busy or broken answer leaves it on the last saved configuration.
      if (err instanceof StkError && err.code === 'STK_ERR_AGENT_REVOKED') throw err;
      this.#o.log({ msg: 'config unavailable; keeping the last one', error: (err as Error).message });
    }
    this.#outbox.setProducts(this.#config?.products ?? []);
    await this.#outbox.add([
      this.#report([
        { kind: 'heartbeat', at: now(), data: this.#beat() },
        { kind: 'agent-health', at: now(), data: { event: 'started', agentVersion: AGENT_VERSION } },
      ]),
    ]);
    this.#outbox.start();
    const interval = (configured: number | undefined, fallback: number): number => o.intervalMs ?? configured ?? fallback;
    this.#scheduler.add({ name: 'config', intervalMs: this.#config?.configIntervalMs ?? 60_000, run: () => this.#refreshConfig() });
    this.#scheduler.add({ name: 'heartbeat', intervalMs: interval(this.#config?.heartbeatIntervalMs, 30_000), run: () => this.#heartbeat() });
    this.#applyCollectors();
    this.#scheduler.start();
    this.#commandLoop = this.#pollCommandsForever();
    o.log({ msg: 'agent running', agentId: this.agentId, products: this.#config?.products ?? [], hostRoot: o.root.dir });
  }

  /** Stops: schedules end, a `stopped` health report is sent (or spooled), the spool is given a moment to drain. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#commandAbort.abort();
      await this.#scheduler.stop();
      // A background command waiting for its window is stopped here and waits again after a restart.
      for (const b of this.#background.values()) b.abort.abort();
      await Promise.all([...this.#background.values()].map((b) => b.run));
      await this.#commandLoop;
      if (!this.#revoked) {
        await this.#outbox.add([
          this.#report([
            { kind: 'heartbeat', at: now(), data: { ...this.#beat(), stopping: true } },
            { kind: 'agent-health', at: now(), data: { event: 'stopped', agentVersion: AGENT_VERSION } },
          ]),
        ]);
        await this.#outbox.flushed(5_000);
      }
      await this.#outbox.stop();
      this.#client.close();
      this.#o.log({ msg: 'agent stopped', agentId: this.agentId, spool: this.#outbox.stats() });
      this.#stopped();
    })();
    return this.#stopping;
  }

  /** Runs a scheduled task now (tests and the benchmark drive collectors this way). */
  runNow(task: string): Promise<void> {
    return this.#scheduler.runNow(task);
  }

  /** Names of the scheduled tasks (collectors of the products that are on, and the agent's own). */
  tasks(): string[] {
    return this.#scheduler.tasks().map((t) => t.name);
  }

  /** Resolves once every spooled batch is sent (or `timeoutMs` passed). */
  flushed(timeoutMs: number): Promise<boolean> {
    return this.#outbox.flushed(timeoutMs);
  }

  #report(events: WireEvent[]): OutEntry {
    return { kind: 'report', product: null, batch: { batchId: newId(), events } };
  }

  /** @internal the outbox delivered a batch. */
  onSent(e: OutEntry): void {
    if (e.kind === 'report' && e.batch.events.some((x) => x.kind === 'heartbeat')) this.#o.log({ msg: 'heartbeat', agentId: this.agentId });
    else this.#o.log({ msg: 'batch sent', kind: e.kind, batchId: e.batch.batchId, items: e.kind === 'report' ? e.batch.events.length : e.batch.items.length });
  }

  /** @internal the ingress says this agent is revoked. */
  onRevoked(): void {
    if (this.#revoked) return;
    this.#revoked = true;
    this.#o.log({ msg: 'agent revoked; stopping', agentId: this.agentId, code: 'STK_ERR_AGENT_REVOKED' });
    void this.stop();
  }

  #taskFailed(name: string, err: unknown): void {
    const code = err instanceof StkError ? err.code : undefined;
    if (code === 'STK_ERR_AGENT_REVOKED') {
      this.onRevoked();
      return;
    }
    this.#o.log({ msg: 'task failed', task: name, code, error: (err as Error)?.message ?? String(err) });
  }

  /** Answers with a catalogue error for refusals the agent must act on (revocation). */
  #check(r: { status: number; body: unknown }, what: string): void {
    const code = (r.body as { error?: { code?: string } } | null)?.error?.code;
    if (code === 'STK_ERR_AGENT_REVOKED') throw new StkError('STK_ERR_AGENT_REVOKED', 'agent is revoked');
    if (r.status >= 300) throw new StkError('STK_ERR_UNAVAILABLE', `${what}: the ingress answered ${r.status} ${code ?? ''}`.trim(), { status: r.status });
  }

  async #refreshConfig(): Promise<void> {
    let r: Awaited<ReturnType<IngressClient['config']>>;
    const t0 = Date.now();
    try {
      r = await this.#client.config();
    } catch (err) {
      this.#o.log({ msg: 'config unavailable; keeping the last one', error: (err as Error).message });
      return;
    }
    const t1 = Date.now();
    this.#check(r, 'config');
    const before = this.#config;
    this.#config = r.body;
    await this.#state.write('config', r.body);
    this.#outbox.setProducts(r.body.products);
    if (JSON.stringify(before) !== JSON.stringify({ ...r.body, serverTime: before?.serverTime })) {
      this.#o.log({ msg: 'config applied', products: r.body.products, collectors: Object.keys(r.body.collectors) });
    }
    if (this.#scheduler.tasks().length > 0) {
      this.#retime('config', r.body.configIntervalMs);
      this.#retime('heartbeat', this.#o.intervalMs ?? r.body.heartbeatIntervalMs);
      this.#applyCollectors();
    }
    await this.#checkSkew(r.body, (t0 + t1) / 2);
  }

  /** Runs exactly the collectors whose section the configuration has; a product switched off stops them. */
  #applyCollectors(): void {
    const c = this.#config?.collectors ?? {};
    const intervals: Record<Collector['name'], number | undefined> = {
      processes: c.processes?.intervalMs,
      connections: c.connections?.intervalMs,
      'local-accounts': c.localAccounts?.intervalMs,
      directory: c.directory?.intervalMs,
      'patch-inventory': c.patchInventory?.intervalMs,
    };
    const running = new Set(this.#scheduler.tasks().map((t) => t.name));
    for (const collector of this.#collectors) {
      const intervalMs = intervals[collector.name];
      if (intervalMs === undefined) {
        if (running.has(collector.name)) {
          this.#scheduler.remove(collector.name);
          this.#o.log({ msg: 'collector stopped', collector: collector.name });
        }
        continue;
      }
      if (running.has(collector.name)) {
        this.#retime(collector.name, intervalMs);
        continue;
      }
      this.#scheduler.add({
        name: collector.name,
        intervalMs,
        run: async () => {
          const items = await collector.run();
          // A run that was under way when its product was switched off sends nothing (the outbox
          // drops what the products in force do not allow) and says nothing.
          if (!this.#scheduler.tasks().some((t) => t.name === collector.name)) return;
          this.#o.log({ msg: 'collected', collector: collector.name, items });
        },
      });
      this.#o.log({ msg: 'collector started', collector: collector.name, intervalMs });
    }
  }

  /** A task's new interval; re-arming an unchanged one would put its next run off at every config refresh. */
  #retime(name: string, intervalMs: number): void {
    if (this.#scheduler.tasks().find((t) => t.name === name)?.intervalMs !== intervalMs) this.#scheduler.setInterval(name, intervalMs);
  }

  async #checkSkew(c: AgentConfig, localMidMs: number): Promise<void> {
    const skewSeconds = Math.round((localMidMs - Date.parse(c.serverTime)) / 100) / 10;
    const warn = c.clockSkewWarnSeconds;
    const out = Math.abs(skewSeconds) > warn;
    const last = this.#reportedSkew;
    // Reported when it goes out of bounds, moves by half the bound while out, or comes back.
    if ((out && (last === null || Math.abs(skewSeconds - last) > warn / 2)) || (!out && last !== null)) {
      this.#reportedSkew = out ? skewSeconds : null;
      await this.#outbox.add([this.#report([{ kind: 'agent-health', at: now(), data: { event: 'clock_skew', skewSeconds } }])]);
      this.#o.log({ msg: 'clock skew', skewSeconds });
    }
  }

  async #heartbeat(): Promise<void> {
    await this.#renewIfDue();
    const events: WireEvent[] = [{ kind: 'heartbeat', at: now(), data: this.#beat() }];
    const s = this.#outbox.stats();
    if (s.droppedBatches !== this.#reportedDrops || s.pendingBatches >= 10) {
      this.#reportedDrops = s.droppedBatches;
      const spool = {
        pendingBatches: s.pendingBatches,
        pendingItems: s.pendingItems,
        diskBytes: s.diskBytes,
        droppedBatches: s.droppedBatches,
        droppedItems: s.droppedItems,
      };
      events.push({ kind: 'agent-health', at: now(), data: { event: 'spool', spool } });
    }
    await this.#outbox.add([this.#report(events)]);
  }

  async #renewIfDue(): Promise<void> {
    const { notBefore, notAfter } = certificateFacts(this.#client.state.certPem);
    if (notAfter.getTime() - Date.now() >= (notAfter.getTime() - notBefore.getTime()) / 3) return;
    let r: Awaited<ReturnType<IngressClient['renew']>>;
    try {
      r = await this.#client.renew();
    } catch (err) {
      this.#o.log({ msg: 'certificate renewal failed; trying again later', error: (err as Error).message });
      return;
    }
    this.#check(r, 'renew');
    await saveAgentState(this.#o.dir, this.#client.state);
    this.#o.log({ msg: 'certificate renewed', agentId: this.agentId });
  }

  async #saveCommands(): Promise<void> {
    this.#commands.done = this.#commands.done.slice(-DONE_KEPT);
    await this.#state.write('commands', this.#commands);
  }

  /**
   * Asks for commands again and again, each time a long-poll the ingress holds until a command
   * arrives (or `COMMAND_WAIT_S` pass): a command runs as soon as it is dispatched, and an idle
   * agent costs one request per wait. After a failure — or an empty answer that came back early
   * (an ingress holding as many polls as it will, or one that does not hold them) — it pauses for
   * the configured command interval, with jitter, before it asks again.
   */
  async #pollCommandsForever(): Promise<void> {
    const signal = this.#commandAbort.signal;
    while (!signal.aborted && !this.#revoked) {
      const t0 = Date.now();
      let answered: boolean | 'commands' = false;
      try {
        answered = await this.#pollCommands(COMMAND_WAIT_S, signal);
      } catch (err) {
        if (!signal.aborted) this.#taskFailed('commands', err);
      }
      if (signal.aborted || this.#revoked) break;
      if (answered === true && Date.now() - t0 >= (COMMAND_WAIT_S * 1000) / 2) continue;
      if (answered === 'commands') continue;
      const pauseMs = jitteredDelayMs(this.#o.intervalMs ?? this.#config?.commandPollMs ?? 5_000, 0.1, Math.random);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pauseMs);
        signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
    }
  }

  /** One poll: runs what it answers; `'commands'` when it answered some, true when it answered none, false when it did not answer. */
  async #pollCommands(waitS: number, signal?: AbortSignal): Promise<boolean | 'commands'> {
    await this.#postResults();
    let r: Awaited<ReturnType<IngressClient['commands']>>;
    try {
      r = await this.#client.commands(waitS, signal);
    } catch {
      return false; // unreachable: the next poll tries again
    }
    this.#check(r, 'commands');
    for (const c of r.body.commands) {
      if (this.#commands.done.includes(c.id) || this.#commands.results[c.id]) continue;
      // Never run what expired on the way (a pull that waited, a clock ahead): the server records it as expired.
      if (commandExpired(c)) {
        this.#commands.done.push(c.id);
        await this.#saveCommands();
        this.#o.log({ msg: 'command expired, not run', agentId: this.agentId, commandId: c.id, action: c.action, expiresAt: c.expiresAt });
        continue;
      }
      if (BACKGROUND_ACTIONS.has(c.action)) {
        if (!this.#background.has(c.id)) {
          this.#commands.background = [...(this.#commands.background ?? []), c as AgentCommand];
          await this.#saveCommands();
          this.#startBackground(c as AgentCommand);
        }
        continue;
      }
      let result: { outcome: 'succeeded' | 'failed'; output: string };
      if (this.#commands.running === c.id) {
        result = { outcome: 'failed', output: 'the agent stopped while running this command; it is not run a second time' };
      } else {
        this.#commands.running = c.id;
        await this.#saveCommands();
        const r2 = await runAction(this.#actionContext(), c as AgentCommand).catch((err: unknown) => ({
          outcome: 'failed' as const,
          output: `the action failed: ${(err as Error)?.message ?? err}`,
          details: {},
        }));
        result = { outcome: r2.outcome, output: resultText(r2) };
      }
      this.#commands.running = null;
      this.#commands.results[c.id] = result;
      await this.#saveCommands();
      this.#o.log({ msg: 'command run', agentId: this.agentId, commandId: c.id, action: c.action, outcome: result.outcome });
    }
    await this.#postResults();
    return r.body.commands.length > 0 ? 'commands' : true;
  }

  /** Runs a long command beside the loop; its result is posted like any other once it ends. */
  #startBackground(c: AgentCommand): void {
    if (this.#background.has(c.id)) return;
    const abort = new AbortController();
    const run = (async () => {
      const r = await runAction({ ...this.#actionContext(), signal: abort.signal }, c).catch((err: unknown) => ({
        outcome: 'failed' as const,
        output: `the action failed: ${(err as Error)?.message ?? err}`,
        details: {},
      }));
      // Stopped while waiting: it stays in the background list and starts again with the agent.
      if (abort.signal.aborted) return;
      this.#commands.background = (this.#commands.background ?? []).filter((x) => x.id !== c.id);
      this.#commands.results[c.id] = { outcome: r.outcome, output: resultText(r) };
      await this.#saveCommands();
      this.#o.log({ msg: 'command run', agentId: this.agentId, commandId: c.id, action: c.action, outcome: r.outcome });
      await this.#postResults().catch(() => {});
    })().finally(() => this.#background.delete(c.id));
    this.#background.set(c.id, { abort, run });
  }

  /** Posts results not yet posted; one the ingress refuses for good is dropped, one it did not answer is kept. */
  async #postResults(): Promise<void> {
    for (const [id, result] of Object.entries(this.#commands.results)) {
      let r: Awaited<ReturnType<IngressClient['result']>>;
      try {
        r = await this.#client.result(id, result.outcome, result.output);
      } catch {
        return;
      }
      this.#check({ ...r, status: r.status === 409 || r.status === 404 ? 200 : r.status }, 'result');
      delete this.#commands.results[id];
      this.#commands.done.push(id);
      await this.#saveCommands();
      this.#o.log({ msg: 'command done', agentId: this.agentId, commandId: id, outcome: result.outcome, status: r.status });
    }
  }

  #actionContext() {
    return {
      root: this.#o.root,
      client: this.#client,
      evidenceMaxBytes: () => this.#config?.limits.evidenceMaxBytes ?? 64 * 1024 * 1024,
      directoryConfig: () => this.#directoryConfig(),
      inventory: () => this.#inventory(),
      isolated: async (addresses: string[] | null) => {
        // Pinned to the addresses isolation lets through, so a cut-off DNS cannot cut the agent off.
        this.#client.pin(addresses);
        if (addresses) await this.#state.write('isolation', { addresses });
        else await this.#state.remove('isolation');
      },
      ...(this.#o.nft ? { nft: this.#o.nft } : {}),
    };
  }

  /** The directory settings of the configuration with the CA written to the state folder and the password read from its file. */
  async #directoryConfig(): Promise<(DirectoryConfig & { staleAfterDays?: number }) | null> {
    const d = this.#config?.collectors.directory;
    if (!d) return null;
    const caFile = join(this.#state.dir, 'directory-ca.pem');
    const current = await readFile(caFile, 'utf8').catch(() => null);
    if (current !== d.caPem) await writeFileAtomic(caFile, d.caPem);
    const passwordFile = this.#o.directoryPasswordFile ?? join(this.#o.dir, 'directory.password');
    let bindPassword: string;
    try {
      bindPassword = (await readFile(passwordFile, 'utf8')).replace(/\r?\n$/, '');
    } catch (err) {
      throw new StkError(
        'STK_ERR_CONFIG',
        `the directory bind password file ${passwordFile} cannot be read`,
        { field: 'directoryPasswordFile' },
        { cause: err },
      );
    }
    return {
      url: d.url,
      caFile,
      bindDn: d.bindDn,
      bindPassword,
      ...(d.startTls !== undefined ? { startTls: d.startTls } : {}),
      ...(d.tlsServerName !== undefined ? { tlsServerName: d.tlsServerName } : {}),
      ...(d.searchBaseDn !== undefined ? { searchBaseDn: d.searchBaseDn } : {}),
      ...(d.actionBaseDn !== undefined ? { actionBaseDn: d.actionBaseDn } : {}),
      ...(d.pageSize !== undefined ? { pageSize: d.pageSize } : {}),
      ...(d.extraPrivilegedGroups !== undefined ? { extraPrivilegedGroups: d.extraPrivilegedGroups } : {}),
      ...(d.staleAfterDays !== undefined ? { staleAfterDays: d.staleAfterDays } : {}),
    };
  }

  /** A heartbeat's data: the inventory, and what the server tells restarts and clean stops by. */
  #beat(): Record<string, unknown> {
    return { inventory: this.#inventory(), agentStartedAt: this.#startedAt, agentVersion: AGENT_VERSION };
  }

  #inventory(): Record<string, unknown> {
    return {
      hostname: hostname(),
      platform: platform(),
      release: release(),
      arch: arch(),
      cpus: cpus().length,
      memoryBytes: totalmem(),
      agentVersion: AGENT_VERSION,
      hostRoot: this.#o.root.dir,
      isolatedVia: this.#client.pinned,
      spool: this.#outbox.stats(),
    };
  }
}

function now(): string {
  return new Date().toISOString();
}
