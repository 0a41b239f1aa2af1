import type { WireEvent } from '../client.ts';
import type { AgentConfig } from '../../domain/agent-config.ts';
import type { Product } from '../../domain/products.ts';
import { StkError } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { type TelemetryItem, telemetryRoot } from '../../telemetry/items.ts';
import { diffIdentity, localFindings } from '../accounts/diff.ts';
import { type IdentitySnapshot, takeIdentitySnapshot } from '../accounts/snapshot.ts';
import { ConnectionCollector, type ConnectionCollectorState } from '../connections.ts';
import { collectDirectory, type DirectoryConfig, type DirectorySnapshot, diffSnapshots, directoryFindings } from '../directory/mod.ts';
import type { HostRoot } from '../host-root.ts';
import type { AgentPoster } from '../commands/context.ts';
import { collectPatchInventory } from '../commands/inventory.ts';
import { ProcessCollector, type ProcessCollectorState } from '../processes.ts';
import type { AccountChangeItem } from '../../telemetry/types.ts';
import type { OutEntry, Outbox } from './outbox.ts';

/** What the collectors need from the running agent. */
export interface CollectorContext {
  root: HostRoot;
  outbox: Outbox;
  /** The configuration the agent runs with now. */
  config(): AgentConfig;
  /** The directory connection settings (CA file written, password read), or null when not configured. */
  directoryConfig(): Promise<(DirectoryConfig & { staleAfterDays?: number }) | null>;
  /** Posts to the ingress as this agent (the patch inventory goes straight to its own route). */
  poster(): AgentPoster;
}

/** One collector as the scheduler runs it. */
export interface Collector {
  /** The collector's name, its state file and its scheduler task. */
  name: 'processes' | 'connections' | 'local-accounts' | 'directory' | 'patch-inventory';
  product: Product;
  /** Reads its saved state; batches a crash left unspooled are spooled. */
  open(): Promise<void>;
  /** One scan: new items to the outbox, the new state saved with them. Returns how many items. */
  run(): Promise<number>;
}

/** Room for one item as canonical JSON (the ingress takes 64 KiB), with a margin. */
const ITEM_MAX_CHARS = 60 * 1024;

/**
 * An item the ingress would refuse for its size — a process whose command lines are long and full
 * of characters JSON escapes — with its command lines cut until it fits, flagged `cmdlineTruncated`.
 */
function fitted(item: TelemetryItem): TelemetryItem {
  if (item.kind !== 'process' || JSON.stringify(item).length <= ITEM_MAX_CHARS) return item;
  let p = { ...item, cmdlineTruncated: true };
  while (JSON.stringify(p).length > ITEM_MAX_CHARS && (p.cmdline.length > 0 || (p.parentCmdline?.length ?? 0) > 0)) {
    p = {
      ...p,
      cmdline: p.cmdline.slice(0, Math.floor(p.cmdline.length / 2)),
      parentCmdline: p.parentCmdline?.slice(0, Math.floor(p.parentCmdline.length / 2)) ?? null,
    };
  }
  return p;
}

/**
 * Splits items into telemetry batches of at most `maxItems` and about `maxBytes` (JSON length), each
 * with a new batch id and the Merkle root the ingress will check.
 */
export function telemetryEntries(product: Product, items: readonly TelemetryItem[], limits: { maxBatchItems: number; maxBatchBytes: number }): OutEntry[] {
  const out: OutEntry[] = [];
  // Leave room for the envelope and the escaping of the body.
  const budget = Math.floor(limits.maxBatchBytes * 0.8);
  let batch: TelemetryItem[] = [];
  let bytes = 0;
  const flush = (): void => {
    if (batch.length === 0) return;
    out.push({ kind: 'telemetry', product, batch: { batchId: newId(), merkleRoot: telemetryRoot(batch), items: batch } });
    batch = [];
    bytes = 0;
  };
  for (const raw of items) {
    const item = fitted(raw);
    const size = JSON.stringify(item).length;
    if (batch.length >= limits.maxBatchItems || (batch.length > 0 && bytes + size > budget)) flush();
    batch.push(item);
    bytes += size;
  }
  flush();
  return out;
}

/** Report batches of at most `max` events. */
function reportEntries(product: Product | null, events: readonly WireEvent[], max = 500): OutEntry[] {
  const out: OutEntry[] = [];
  for (let i = 0; i < events.length; i += max) out.push({ kind: 'report', product, batch: { batchId: newId(), events: events.slice(i, i + max) } });
  return out;
}

/** The first snapshot is reported as changes from nothing, marked, so the server learns every account. */
function asBaseline(items: AccountChangeItem[]): AccountChangeItem[] {
  return items.map((i) => ({ ...i, details: { ...i.details, baseline: true } }));
}

const EMPTY_LOCAL: IdentitySnapshot = { version: 1, source: 'local', accounts: [], groups: [], sudoFiles: [], sudoGroups: [], warnings: [] };
const EMPTY_DIRECTORY: DirectorySnapshot = {
  format: 1,
  takenAt: new Date(0).toISOString(),
  source: { url: '', searchBaseDn: '', dnsHostName: null, domainSid: null },
  accounts: [],
  groups: [],
  privileged: [],
};

const LOCAL_TITLES: Record<string, string> = {
  'extra-uid-0': 'Account other than root with uid 0',
  'empty-password': 'Account without a password',
  'duplicate-uid': 'Accounts sharing a uid',
  'sudo-no-password': 'Sudo without a password',
  'sudo-all-users': 'Sudo for every user',
  'root-authorized-keys': 'SSH keys that log in as root',
};

/**
 * Findings new since the last scan (by subject, which is stable), and the subjects found now: a
 * finding still there is not reported again; one that went away and came back is.
 */
function newFindings<F extends { subject: string }>(found: F[], before: readonly string[]): { fresh: F[]; subjects: string[] } {
  const known = new Set(before);
  return { fresh: found.filter((f) => !known.has(f.subject)), subjects: [...new Set(found.map((f) => f.subject))].sort() };
}

/** EDR process starts. */
export function processCollector(ctx: CollectorContext): Collector {
  let collector: ProcessCollector | null = null;
  let saved: ProcessCollectorState | null = null;
  let settings = '';
  return {
    name: 'processes',
    product: 'edr',
    async open() {
      saved = await ctx.outbox.recover<ProcessCollectorState>('processes');
    },
    async run() {
      const c = ctx.config();
      const s = c.collectors.processes;
      if (!s) return 0;
      // New limits take effect on a new collector, which keeps what was seen.
      if (!collector || settings !== JSON.stringify(s)) {
        const state = collector?.exportState() ?? saved;
        collector = new ProcessCollector({ root: ctx.root, maxCmdlineBytes: s.maxCmdlineBytes, maxHashBytes: s.maxHashBytes });
        if (state) collector.importState(state);
        settings = JSON.stringify(s);
      }
      const items = await collector.scan();
      await ctx.outbox.commit('processes', collector.exportState(), telemetryEntries('edr', items, c.limits));
      return items.length;
    },
  };
}

/** EDR connections and listeners. */
export function connectionCollector(ctx: CollectorContext): Collector {
  const collector = new ConnectionCollector({ root: ctx.root });
  return {
    name: 'connections',
    product: 'edr',
    async open() {
      const saved = await ctx.outbox.recover<ConnectionCollectorState>('connections');
      if (saved) collector.importState(saved);
    },
    async run() {
      const items = await collector.scan();
      await ctx.outbox.commit('connections', collector.exportState(), telemetryEntries('edr', items, ctx.config().limits));
      return items.length;
    },
  };
}

interface IdentityState<S> {
  snapshot: S | null;
  findings: string[];
}

/** Identity: local accounts (passwd, shadow status, group, sudoers, authorized_keys). */
export function localAccountCollector(ctx: CollectorContext): Collector {
  let state: IdentityState<IdentitySnapshot> = { snapshot: null, findings: [] };
  return {
    name: 'local-accounts',
    product: 'identity',
    async open() {
      state = (await ctx.outbox.recover<IdentityState<IdentitySnapshot>>('local-accounts')) ?? state;
    },
    async run() {
      const snap = await takeIdentitySnapshot(ctx.root);
      const items = state.snapshot ? diffIdentity(state.snapshot, snap) : asBaseline(diffIdentity(EMPTY_LOCAL, snap));
      const at = new Date().toISOString();
      const found = localFindings(snap).map((f) => ({ ...f, subject: `local:${f.account}:${f.finding}` }));
      const { fresh, subjects } = newFindings(found, state.findings);
      const events: WireEvent[] = fresh.map((f) => ({
        kind: 'finding',
        at,
        data: {
          product: 'identity',
          title: `${LOCAL_TITLES[f.finding] ?? f.finding}: ${f.account}`.slice(0, 256),
          severity: f.severity,
          subject: f.subject,
          details: { ...f.details, finding: f.finding, account: f.account, uid: f.uid, source: 'local' },
        },
      }));
      state = { snapshot: snap, findings: subjects };
      await ctx.outbox.commit('local-accounts', state, [...telemetryEntries('identity', items, ctx.config().limits), ...reportEntries('identity', events)]);
      return items.length;
    },
  };
}

/** Identity: Active Directory over LDAP, when the agent has directory settings. */
export function directoryCollector(ctx: CollectorContext): Collector {
  let state: IdentityState<DirectorySnapshot> = { snapshot: null, findings: [] };
  return {
    name: 'directory',
    product: 'identity',
    async open() {
      state = (await ctx.outbox.recover<IdentityState<DirectorySnapshot>>('directory')) ?? state;
    },
    async run() {
      const config = await ctx.directoryConfig();
      if (!config) return 0;
      const { staleAfterDays, ...connection } = config;
      const { snapshot } = await collectDirectory(connection);
      const items = state.snapshot ? diffSnapshots(state.snapshot, snapshot) : asBaseline(diffSnapshots(EMPTY_DIRECTORY, snapshot));
      const at = new Date().toISOString();
      const { fresh, subjects } = newFindings(directoryFindings(snapshot, new Date(), staleAfterDays ? { staleAfterDays } : {}), state.findings);
      const events: WireEvent[] = fresh.map((f) => ({ kind: 'finding', at, data: { ...f, details: { ...f.details, source: 'directory' } } }));
      state = { snapshot, findings: subjects };
      await ctx.outbox.commit('directory', state, [...telemetryEntries('identity', items, ctx.config().limits), ...reportEntries('identity', events)]);
      return items.length;
    },
  };
}

/**
 * Patch management: the host's installed packages and pending upgrades, posted whole to
 * `POST /agent/v1/inventory` (each inventory replaces the last, so one that fails is simply taken
 * again at the next interval — nothing to spool). Changelogs read for CVE ids are remembered per
 * candidate version for the agent's life.
 */
export function patchInventoryCollector(ctx: CollectorContext): Collector {
  const cveCache = new Map<string, string[]>();
  return {
    name: 'patch-inventory',
    product: 'patch',
    async open() {},
    async run() {
      const { inventory, answer } = await collectPatchInventory({ root: ctx.root, client: ctx.poster() }, { cveCache });
      if (answer.status >= 300)
        throw new StkError('STK_ERR_UNAVAILABLE', `the ingress refused the patch inventory (${answer.status})`, { status: answer.status });
      return inventory.upgrades.length;
    },
  };
}
