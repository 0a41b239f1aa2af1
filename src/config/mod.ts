import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { RetentionKind } from '../domain/personal.ts';
import {
  type CommandExpiry,
  DEFAULT_DATA_DIR,
  flagKey,
  readSettings,
  type Role,
  ROLES,
  SETTINGS,
  type SettingCommand,
  type SettingValues,
} from './settings.ts';

export { DEFAULT_DATA_DIR, ROLES, SETTINGS, type CommandExpiry, type Role, type SettingValues };

/** The ledger's sealing settings. */
export interface LedgerConfig {
  /** Keyring folder. */
  keyDir: string;
  blockMaxEntries: number;
  blockMaxMs: number;
  /** Time between checkpoints (one is written for a tenant only when its tree grew). */
  checkpointIntervalMs: number;
  /** A folder (ideally on another host's mount) keeping each tenant's newest checkpoint note. */
  checkpointDir?: string;
  /** tlog-witnesses that cosign each checkpoint. */
  witnessUrls: string[];
  /** The install origin of the tenants' logs. */
  origin?: string;
  /** Where the sealer keeps the leaf files it proves consistency to witnesses from (a cache). */
  treesDir: string;
}

/** How far sealing and projection may fall behind before the ingress refuses new reports. */
export interface BackpressureConfig {
  maxSealLagEvents: number;
  maxProjectionLagEvents: number;
  /** How often the backlogs are read; 0 = on every report. */
  refreshMs: number;
}

/** Data lifecycle: field encryption, retention, agent command expiry. */
export interface LifecycleConfig {
  fieldEncryption: boolean;
  /** Days kept per kind by default (null = forever); tenants may set their own. */
  retentionDays: Record<RetentionKind, number | null>;
  retentionIntervalMs: number;
  /** Per action, and `default` for the others. */
  commandExpiry: Record<string, CommandExpiry>;
}

/** Everything a Stockade process is configured with; sections per role. */
export interface Config {
  dataDir: string;
  roles: Role[];
  /** External NATS; when empty, `serve` starts an embedded nats-server. */
  natsUrl: string[];
  natsUser?: string;
  natsPass?: string;
  logLevel: string;
  /** JSON log lines even on a terminal. */
  logJson: boolean;
  /** Replicas of the streams (3 on a cluster). */
  replicas: number;
  /** The admin key when given in the environment (shared by several API processes); else `<data>/admin.key`. */
  adminKey?: string;
  httpHost: string;
  httpPort: number;
  /** Where a process without the api role answers /healthz and /metrics; none by default. */
  metricsHttp?: { host: string; port: number };
  ingressHost: string;
  ingressPort: number;
  ingress: {
    certValidityDays: number;
    enrollPerMinute: number;
    issuerThreads: number;
    maxWaiting: number;
    maxConnections: number;
    freshnessMs: number;
    accessLog: 'all' | 'refusals';
  };
  /** The ingress as agents reach it; shown in the dashboard's enroll commands. */
  publicIngressUrl?: string;
  backpressure: BackpressureConfig;
  /** Retention of the TELEMETRY stream and the evidence upload bound. */
  telemetry: { maxAgeMs: number; maxBytes: number; evidenceMaxBytes: number };
  ledger: LedgerConfig;
  sealer: { http?: { host: string; port: number }; workerId?: string };
  lifecycle: LifecycleConfig;
  detector: DetectorConfig;
}

/** The detector role's settings, and the notification settings the API shares with it. */
export interface DetectorConfig {
  silenceMs: number;
  /** Base of the alert links in messages. */
  publicUrl: string;
  allowLoopback: boolean;
  allowPrivate: boolean;
  /** Extra CA certificates (PEM file) for receivers. */
  caFile?: string;
}

/**
 * Builds the configuration of `command` from its flags and the environment (flags win). An
 * invalid value stops with STK_ERR_CONFIG naming the flag or variable.
 */
export function loadConfig(flags: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = process.env, command: SettingCommand = 'serve'): Config {
  return toConfig(readSettings(command, flags, env));
}

function toConfig(v: SettingValues): Config {
  const dataDir = resolve(v.data);
  return {
    dataDir,
    roles: v.role,
    natsUrl: v.natsUrl,
    ...(v.natsUser ? { natsUser: v.natsUser } : {}),
    ...(v.natsPass ? { natsPass: v.natsPass } : {}),
    logLevel: v.logLevel,
    logJson: v.logJson,
    replicas: v.replicas,
    ...(v.adminKey ? { adminKey: v.adminKey } : {}),
    httpHost: v.http.host,
    httpPort: v.http.port,
    ...(v.metricsHttp ? { metricsHttp: v.metricsHttp } : {}),
    ingressHost: v.ingress.host,
    ingressPort: v.ingress.port,
    ingress: {
      certValidityDays: v.agentCertDays,
      enrollPerMinute: v.enrollRate,
      issuerThreads: v.issuerThreads,
      maxWaiting: v.ingressMaxWaiting,
      maxConnections: v.ingressMaxConnections,
      freshnessMs: v.ingressFreshnessMs,
      accessLog: v.ingressAccessLog,
    },
    ...(v.publicIngressUrl ? { publicIngressUrl: v.publicIngressUrl } : {}),
    backpressure: { maxSealLagEvents: v.maxSealLag, maxProjectionLagEvents: v.maxProjectionLag, refreshMs: v.lagRefreshMs },
    telemetry: { maxAgeMs: Math.round(v.telemetryMaxAgeDays * 86_400_000), maxBytes: v.telemetryMaxBytes, evidenceMaxBytes: v.evidenceMaxBytes },
    ledger: {
      keyDir: resolve(v.keyDir),
      blockMaxEntries: v.blockMaxEntries,
      blockMaxMs: v.blockMaxMs,
      checkpointIntervalMs: v.checkpointMs,
      ...(v.checkpointDir ? { checkpointDir: resolve(v.checkpointDir) } : {}),
      witnessUrls: v.witnesses,
      ...(v.origin ? { origin: v.origin } : {}),
      treesDir: resolve(dataDir, 'ledger-trees', 'sealer'),
    },
    sealer: { ...(v.sealerHttp ? { http: v.sealerHttp } : {}), ...(v.workerId ? { workerId: v.workerId } : {}) },
    lifecycle: { fieldEncryption: v.fieldEncryption, retentionDays: v.retention, retentionIntervalMs: v.retentionIntervalMs, commandExpiry: v.commandExpiry },
    detector: {
      silenceMs: v.silenceSeconds * 1000,
      publicUrl: v.publicUrl ?? `http://${v.http.host.includes(':') ? `[${v.http.host}]` : v.http.host}:${v.http.port}`,
      allowLoopback: v.notifyAllowLoopback,
      allowPrivate: v.notifyAllowPrivate,
      ...(v.notifyCaFile ? { caFile: resolve(v.notifyCaFile) } : {}),
    },
  };
}

/** Registers the flags of `command` from the settings table on a commander command. */
export function addSettingFlags(cmd: Command, command: SettingCommand): Command {
  for (const d of Object.values(SETTINGS)) {
    if (!d.flag?.commands.includes(command)) continue;
    cmd.option(`${d.flag.name} <${d.flag.arg.toLowerCase()}>`, `${d.description}${d.env ? ` (${d.env})` : ''}`);
  }
  return cmd;
}

/** The data folder a CLI command works on: `--data`, else STOCKADE_DATA, else `./data`. */
export function dataDirOf(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(flag ?? env.STOCKADE_DATA ?? DEFAULT_DATA_DIR);
}

export { flagKey };
