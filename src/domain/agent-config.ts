import type { Product } from './products.ts';

/**
 * What an agent collects and how often, as the ingress's `GET /agent/v1/config` hands it out. An
 * install has defaults; a tenant sets its own over them; one agent (a domain controller) may have
 * its own over the tenant's. A section of a product that is off is never handed out, so the agent
 * never collects it. Pure: shared by the deciders, the ingress, the API and the agent.
 */
export interface CollectionSettings {
  /** How often the agent asks for this configuration again: a product switched on or off takes effect within it. */
  configIntervalMs: number;
  heartbeatIntervalMs: number;
  /** How often the agent pulls its commands. */
  commandPollMs: number;
  processes: { intervalMs: number; maxCmdlineBytes: number; maxHashBytes: number };
  connections: { intervalMs: number };
  localAccounts: { intervalMs: number };
  /** Installed packages and pending upgrades (dpkg/apt), posted to `POST /agent/v1/inventory`. */
  patchInventory: { intervalMs: number };
  /** Active Directory over LDAP; null = not collected. The bind password never leaves the agent's host. */
  directory: DirectorySettings | null;
  /** Most items the agent puts in one telemetry batch (the ingress takes at most TELEMETRY_MAX_ITEMS). */
  maxBatchItems: number;
  /** An agent clock further than this from the server's is reported (agent health `clock_skew`). */
  clockSkewWarnSeconds: number;
}

/** How the agent reaches the directory (see src/agent/directory/README.md); the password stays on the agent's host. */
export interface DirectorySettings {
  intervalMs: number;
  url: string;
  startTls?: boolean;
  /** PEM of the CA that signs the directory's certificate: the only trust anchor. */
  caPem: string;
  tlsServerName?: string;
  bindDn: string;
  searchBaseDn?: string;
  actionBaseDn?: string;
  pageSize?: number;
  staleAfterDays?: number;
  extraPrivilegedGroups?: string[];
}

/** A tenant's or an agent's settings over the ones below them: any field may be left out; `directory: null` turns it off. */
export type SettingsOverride = {
  [K in keyof CollectionSettings]?: CollectionSettings[K] extends Record<string, unknown> | null
    ? K extends 'directory'
      ? DirectorySettings | null
      : Partial<NonNullable<CollectionSettings[K]>>
    : CollectionSettings[K];
};

/** The install's defaults. */
export const DEFAULT_SETTINGS: Readonly<CollectionSettings> = Object.freeze({
  configIntervalMs: 60_000,
  heartbeatIntervalMs: 30_000,
  commandPollMs: 5_000,
  processes: { intervalMs: 10_000, maxCmdlineBytes: 4096, maxHashBytes: 256 * 1024 * 1024 },
  connections: { intervalMs: 15_000 },
  localAccounts: { intervalMs: 300_000 },
  // An inventory runs apt and dpkg: a few times a day is what compliance needs.
  patchInventory: { intervalMs: 6 * 3_600_000 },
  directory: null,
  maxBatchItems: 500,
  clockSkewWarnSeconds: 60,
});

/** Which product each collector belongs to. */
export const COLLECTOR_PRODUCTS = {
  processes: 'edr',
  connections: 'edr',
  localAccounts: 'identity',
  directory: 'identity',
  patchInventory: 'patch',
} as const satisfies Record<string, Product>;

export type Collector = keyof typeof COLLECTOR_PRODUCTS;

/** Settings over `base`: objects merged one level deep, `directory` replaced whole. */
export function applyOverride(base: CollectionSettings, o: SettingsOverride | null | undefined): CollectionSettings {
  if (!o) return base;
  return {
    configIntervalMs: o.configIntervalMs ?? base.configIntervalMs,
    heartbeatIntervalMs: o.heartbeatIntervalMs ?? base.heartbeatIntervalMs,
    commandPollMs: o.commandPollMs ?? base.commandPollMs,
    processes: { ...base.processes, ...(o.processes ?? {}) },
    connections: { ...base.connections, ...(o.connections ?? {}) },
    localAccounts: { ...base.localAccounts, ...(o.localAccounts ?? {}) },
    patchInventory: { ...base.patchInventory, ...(o.patchInventory ?? {}) },
    directory: o.directory === undefined ? base.directory : o.directory,
    maxBatchItems: o.maxBatchItems ?? base.maxBatchItems,
    clockSkewWarnSeconds: o.clockSkewWarnSeconds ?? base.clockSkewWarnSeconds,
  };
}

/** The settings one agent runs with: defaults, then its tenant's, then its own. */
export function effectiveSettings(tenant: SettingsOverride | null, agent: SettingsOverride | null): CollectionSettings {
  return applyOverride(applyOverride(structuredClone(DEFAULT_SETTINGS) as CollectionSettings, tenant), agent);
}

/** What `GET /agent/v1/config` answers: the collectors of the products that are on, and nothing of the others. */
export interface AgentConfig {
  agentId: string;
  products: Product[];
  configIntervalMs: number;
  heartbeatIntervalMs: number;
  commandPollMs: number;
  collectors: {
    processes?: CollectionSettings['processes'];
    connections?: CollectionSettings['connections'];
    localAccounts?: CollectionSettings['localAccounts'];
    patchInventory?: CollectionSettings['patchInventory'];
    directory?: DirectorySettings;
  };
  limits: { maxBatchItems: number; maxBatchBytes: number; evidenceMaxBytes: number };
  clockSkewWarnSeconds: number;
  /** The server's clock when it answered: the agent measures its skew against it. */
  serverTime: string;
}

/** The configuration an agent is handed, given the tenant's products and the ingress's limits. */
export function agentConfig(
  agentId: string,
  products: readonly Product[],
  s: CollectionSettings,
  limits: { maxBatchItems: number; maxBatchBytes: number; evidenceMaxBytes: number },
  now: Date,
): AgentConfig {
  const on = (c: Collector): boolean => products.includes(COLLECTOR_PRODUCTS[c]);
  return {
    agentId,
    products: [...products],
    configIntervalMs: s.configIntervalMs,
    heartbeatIntervalMs: s.heartbeatIntervalMs,
    commandPollMs: s.commandPollMs,
    collectors: {
      ...(on('processes') ? { processes: s.processes } : {}),
      ...(on('connections') ? { connections: s.connections } : {}),
      ...(on('localAccounts') ? { localAccounts: s.localAccounts } : {}),
      ...(on('patchInventory') ? { patchInventory: s.patchInventory } : {}),
      ...(on('directory') && s.directory ? { directory: s.directory } : {}),
    },
    limits: { ...limits, maxBatchItems: Math.min(limits.maxBatchItems, s.maxBatchItems) },
    clockSkewWarnSeconds: s.clockSkewWarnSeconds,
    serverTime: now.toISOString(),
  };
}

const ms = (min: number, max: number) => ({ type: 'integer', minimum: min, maximum: max }) as const;
const obj = (properties: Record<string, object>) => ({ type: 'object', additionalProperties: false, properties }) as const;
const str = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength }) as const;

/** JSON schema of the directory settings (a PEM CA of at most 64 KiB, no password). */
export const DIRECTORY_SETTINGS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['intervalMs', 'url', 'caPem', 'bindDn'],
  properties: {
    intervalMs: ms(1_000, 86_400_000),
    url: { type: 'string', pattern: '^ldaps?://[^/\\s?#]+/?$', maxLength: 300 },
    startTls: { type: 'boolean' },
    caPem: { type: 'string', minLength: 1, maxLength: 65_536, pattern: '-----BEGIN CERTIFICATE-----' },
    tlsServerName: str(253),
    bindDn: str(1024),
    searchBaseDn: str(1024),
    actionBaseDn: str(1024),
    pageSize: ms(1, 1000),
    staleAfterDays: ms(1, 3650),
    extraPrivilegedGroups: { type: 'array', maxItems: 64, items: str(256) },
  },
} as const;

/** JSON schema of a settings override (tenant or agent): the bounds an operator can set. */
export const SETTINGS_OVERRIDE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    configIntervalMs: ms(500, 3_600_000),
    heartbeatIntervalMs: ms(1_000, 3_600_000),
    commandPollMs: ms(200, 600_000),
    processes: obj({ intervalMs: ms(200, 86_400_000), maxCmdlineBytes: ms(64, 65_536), maxHashBytes: ms(0, 4 * 1024 ** 3) }),
    connections: obj({ intervalMs: ms(200, 86_400_000) }),
    localAccounts: obj({ intervalMs: ms(200, 86_400_000) }),
    patchInventory: obj({ intervalMs: ms(1_000, 7 * 86_400_000) }),
    directory: { anyOf: [{ type: 'null' }, DIRECTORY_SETTINGS_SCHEMA] },
    maxBatchItems: ms(1, 100_000),
    clockSkewWarnSeconds: ms(1, 86_400),
  },
} as const;
