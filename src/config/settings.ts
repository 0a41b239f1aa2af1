import { availableParallelism } from 'node:os';
import { RETENTION_KINDS, type RetentionKind } from '../domain/personal.ts';
import { ACTIONS } from '../domain/products.ts';
import { StkError } from '../errors.ts';

/** The commands whose flags a setting appears among. */
export type SettingCommand = 'serve' | 'sealer';

/** One setting: where it comes from (a flag wins over its variable), its default, how it is checked. */
export interface SettingDef<T> {
  /** Section of the configuration (and of the README's table). */
  section: 'core' | 'api' | 'ingress' | 'backpressure' | 'telemetry' | 'ledger' | 'sealer' | 'detector' | 'lifecycle';
  /** `--flag`, with its argument's name for the docs. */
  flag?: { name: string; arg: string; commands: readonly SettingCommand[] };
  env?: string;
  /** The value when neither flag nor variable is set; a function of the data folder for paths under it. */
  default: T | ((o: { dataDir: string }) => T);
  /** How the default reads in the docs. */
  defaultText: string;
  /** Turns the raw text into the value; throws a sentence (without the setting's name) when it is invalid. */
  parse: (raw: string) => T;
  description: string;
  /** Never echoed back in an error or a log. */
  secret?: boolean;
}

/** A value a parser refuses; turned into STK_ERR_CONFIG naming the flag or variable by `readSettings`. */
class InvalidSetting extends Error {}

function def<T>(d: SettingDef<T>): SettingDef<T> {
  return d;
}

// ── parsers: one of each, so every setting says "must be …" the same way ──────────────────────

/** A whole number from `min` to `max`. */
export const integer =
  (min: number, max: number) =>
  (raw: string): number => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new InvalidSetting(`must be a whole number from ${min} to ${max}`);
    return n;
  };

/** A number from `min` to `max` (fractions allowed). */
export const decimal =
  (min: number, max: number) =>
  (raw: string): number => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new InvalidSetting(`must be a number from ${min} to ${max}`);
    return n;
  };

/** `host:port`, `[v6]:port` or a port alone (on 127.0.0.1). */
export function hostPort(raw: string): { host: string; port: number } {
  const m = /^(?:\[?([^\]]*)\]?:)?(\d{1,5})$/.exec(raw.trim());
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port > 65535) throw new InvalidSetting('must be host:port or a port');
  return { host: m[1] || '127.0.0.1', port };
}

const text = (raw: string): string => raw;
const flag = (raw: string): boolean => raw !== '0' && raw !== 'false';
const optionalText = (raw: string): string | null => raw;

/** One of `values`. */
const oneOf =
  <V extends string>(values: readonly V[]) =>
  (raw: string): V => {
    if (!(values as readonly string[]).includes(raw)) throw new InvalidSetting(`must be one of ${values.join(', ')}`);
    return raw as V;
  };

/** A comma-separated list, every item one of `values`, at least one. */
const listOf =
  <V extends string>(values: readonly V[]) =>
  (raw: string): V[] => {
    const items = raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (items.length === 0) throw new InvalidSetting(`must name at least one of ${values.join(', ')}`);
    for (const i of items)
      if (!(values as readonly string[]).includes(i)) throw new InvalidSetting(`names ${JSON.stringify(i)}; the choices are ${values.join(', ')}`);
    return items as V[];
  };

const urls = (raw: string): string[] =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** An https URL agents can reach, without credentials, query or fragment; kept without a trailing `/`. */
const publicHttpsUrl = (raw: string): string | null => {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new InvalidSetting('must be an https URL');
  }
  if (u.protocol !== 'https:' || u.username || u.password || u.search || u.hash)
    throw new InvalidSetting('must be an https URL without credentials, query or fragment');
  return u.href.replace(/\/$/, '');
};

const httpUrl = (raw: string): string | null => {
  if (!/^https?:\/\/[^\s]+$/.test(raw)) throw new InvalidSetting('must be an http(s) URL');
  return raw;
};

/** A duration: seconds, or a number with `s`, `m`, `h` or `d`. */
function seconds(raw: string): number {
  const m = /^(\d{1,9})([smhd]?)$/.exec(raw.trim());
  if (!m) throw new InvalidSetting(`has ${JSON.stringify(raw)}, which is not a duration (seconds, or a number with s, m, h or d)`);
  return Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
}

/** How long an agent command of one action waits for its agent: the default and the most an operator may ask for. */
export interface CommandExpiry {
  defaultSeconds: number;
  maxSeconds: number;
}

/**
 * Built-in expiries (seconds). Short where a late run would surprise: a process id is reused, an
 * isolation or an account change hours later is not what the operator decided on.
 */
export const COMMAND_EXPIRY_DEFAULTS: Readonly<Record<string, CommandExpiry>> = {
  default: { defaultSeconds: 3600, maxSeconds: 86_400 },
  ping: { defaultSeconds: 300, maxSeconds: 3600 },
  'kill-process': { defaultSeconds: 300, maxSeconds: 1800 },
  'isolate-host': { defaultSeconds: 900, maxSeconds: 3600 },
  'disable-account': { defaultSeconds: 900, maxSeconds: 3600 },
  'reset-credentials': { defaultSeconds: 900, maxSeconds: 3600 },
  'install-patches': { defaultSeconds: 86_400, maxSeconds: 7 * 86_400 },
};

/** `action=default/max,…` (durations as for `seconds`) over the built-in table; `default` sets every other action. */
function commandExpiry(raw: string): Record<string, CommandExpiry> {
  const out: Record<string, CommandExpiry> = { ...COMMAND_EXPIRY_DEFAULTS };
  for (const item of raw
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const m = /^([a-z-]+)=([^/]+)\/(.+)$/.exec(item);
    if (!m) throw new InvalidSetting(`has ${JSON.stringify(item)}; write action=default/max, e.g. isolate-host=15m/1h`);
    const action = m[1]!;
    if (action !== 'default' && !(action in ACTIONS)) throw new InvalidSetting(`names ${JSON.stringify(action)}, which is not an action`);
    const e = { defaultSeconds: seconds(m[2]!), maxSeconds: seconds(m[3]!) };
    if (e.defaultSeconds < 1 || e.defaultSeconds > e.maxSeconds)
      throw new InvalidSetting(`has ${JSON.stringify(item)}: the default must be from 1 s to the maximum`);
    out[action] = e;
  }
  return out;
}

/** Days each kind of data is kept by default (null = forever). */
export const RETENTION_DEFAULTS: Readonly<Record<RetentionKind, number | null>> = { events: null, evidence: 365, 'scan-items': 180, telemetry: 30 };

/** `kind=days|forever,…` over the defaults. */
function retentionDays(raw: string): Record<RetentionKind, number | null> {
  const out: Record<RetentionKind, number | null> = { ...RETENTION_DEFAULTS };
  for (const item of raw
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const m = /^([a-z-]+)=(forever|\d{1,6})$/.exec(item);
    if (!m || !(RETENTION_KINDS as readonly string[]).includes(m[1]!))
      throw new InvalidSetting(`has ${JSON.stringify(item)}; write kind=days or kind=forever, kinds ${RETENTION_KINDS.join(', ')}`);
    const days = m[2] === 'forever' ? null : Number(m[2]);
    if (days === 0) throw new InvalidSetting(`has ${JSON.stringify(item)}: keep at least one day, or forever`);
    out[m[1] as RetentionKind] = days;
  }
  return out;
}

export const ROLES = ['api', 'ingress', 'projector', 'sealer', 'detector', 'lifecycle', 'scanner'] as const;
export type Role = (typeof ROLES)[number];

/** The default data folder, relative to the working directory. */
export const DEFAULT_DATA_DIR = './data';

/**
 * Every setting of Stockade. The README's configuration table is generated from this list
 * (`node --import tsx infra/gen-config-doc.ts`) and a test keeps the two in step.
 */
export const SETTINGS = {
  data: def({
    section: 'core',
    flag: { name: '--data', arg: 'DIR', commands: ['serve', 'sealer'] },
    env: 'STOCKADE_DATA',
    default: DEFAULT_DATA_DIR,
    defaultText: '`./data`',
    parse: text,
    description: 'data folder: NATS store, LevelDB, keys, admin key',
  }),
  role: def({
    section: 'core',
    flag: { name: '--role', arg: 'LIST', commands: ['serve'] },
    env: 'STOCKADE_ROLE',
    default: [...ROLES] as Role[],
    defaultText: 'all',
    parse: listOf(ROLES),
    description:
      '`api,ingress,projector,sealer,detector,lifecycle,scanner`: the roles this process runs (`scanner` scans declared external targets from the server)',
  }),
  natsUrl: def({
    section: 'core',
    flag: { name: '--nats-url', arg: 'URLS', commands: ['serve', 'sealer'] },
    env: 'NATS_URL',
    default: [] as string[],
    defaultText: '(embedded)',
    parse: urls,
    description: 'external NATS servers, comma-separated; no embedded server is started',
  }),
  natsUser: def({
    section: 'core',
    env: 'STOCKADE_NATS_USER',
    default: null as string | null,
    defaultText: '',
    parse: optionalText,
    description: 'NATS user name',
  }),
  natsPass: def({
    section: 'core',
    env: 'STOCKADE_NATS_PASS',
    default: null as string | null,
    defaultText: '',
    parse: optionalText,
    description: 'NATS password',
    secret: true,
  }),
  replicas: def({
    section: 'core',
    flag: { name: '--replicas', arg: 'N', commands: ['serve', 'sealer'] },
    env: 'STOCKADE_REPLICAS',
    default: 1,
    defaultText: '`1`',
    parse: (raw) => {
      const n = integer(1, 5)(raw);
      if (n !== 1 && n !== 3 && n !== 5) throw new InvalidSetting('must be 1, 3 or 5');
      return n;
    },
    description: 'stream replicas (3 on a cluster)',
  }),
  logLevel: def({
    section: 'core',
    flag: { name: '--log-level', arg: 'L', commands: ['serve', 'sealer'] },
    env: 'STOCKADE_LOG_LEVEL',
    default: 'info',
    defaultText: '`info`',
    parse: oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const),
    description: 'pino level; logs are JSON lines (pretty on a terminal)',
  }),
  logJson: def({
    section: 'core',
    env: 'STOCKADE_LOG_JSON',
    default: false,
    defaultText: 'unset',
    parse: (raw) => raw !== '0' && raw !== 'false',
    description: 'JSON log lines even on a terminal',
  }),
  adminKey: def({
    section: 'core',
    env: 'STOCKADE_ADMIN_KEY',
    default: null as string | null,
    defaultText: '`<data>/admin.key`',
    parse: (raw) => {
      if (raw.length < 32 || !/^[!-~]+$/.test(raw)) throw new InvalidSetting('must be at least 32 printable characters without spaces');
      return raw;
    },
    description: 'the admin API key; set it to share one key between several API processes',
    secret: true,
  }),
  http: def({
    section: 'api',
    flag: { name: '--http', arg: 'HOST:PORT', commands: ['serve'] },
    env: 'STOCKADE_HTTP',
    default: { host: '127.0.0.1', port: 8080 },
    defaultText: '`127.0.0.1:8080`',
    parse: hostPort,
    description: 'operator API and dashboard',
  }),
  metricsHttp: def({
    section: 'core',
    flag: { name: '--metrics-http', arg: 'HOST:PORT', commands: ['serve'] },
    env: 'STOCKADE_METRICS_HTTP',
    default: null as { host: string; port: number } | null,
    defaultText: '(none)',
    parse: hostPort,
    description: '`/healthz` and `/metrics` of a `serve` process that does not run the api role (an ingress, sealer or detector alone)',
  }),
  ingress: def({
    section: 'ingress',
    flag: { name: '--ingress', arg: 'HOST:PORT', commands: ['serve'] },
    env: 'STOCKADE_INGRESS',
    default: { host: '127.0.0.1', port: 8443 },
    defaultText: '`127.0.0.1:8443`',
    parse: hostPort,
    description: 'agent ingress (mTLS)',
  }),
  publicIngressUrl: def({
    section: 'ingress',
    flag: { name: '--public-ingress-url', arg: 'URL', commands: ['serve'] },
    env: 'STOCKADE_PUBLIC_INGRESS_URL',
    default: null as string | null,
    defaultText: '(the listening address)',
    parse: publicHttpsUrl,
    description: 'https URL agents reach the ingress at (behind NAT, a load balancer, a DNS name); the dashboard puts it in enroll commands',
  }),
  agentCertDays: def({
    section: 'ingress',
    env: 'STOCKADE_AGENT_CERT_DAYS',
    default: 30,
    defaultText: '`30`',
    parse: decimal(0.0001, 825),
    description: 'validity of agent client certificates in days (agents renew at two thirds)',
  }),
  enrollRate: def({
    section: 'ingress',
    env: 'STOCKADE_ENROLL_RATE',
    default: 30,
    defaultText: '`30`',
    parse: integer(1, 10_000_000),
    description: 'enrollments per minute per source address at the ingress',
  }),
  issuerThreads: def({
    section: 'ingress',
    env: 'STOCKADE_ISSUER_THREADS',
    default: Math.min(4, availableParallelism()),
    defaultText: 'cores (≤ 4)',
    parse: integer(0, 64),
    description: 'threads that check CSRs and sign agent certificates (0: on the event loop)',
  }),
  ingressMaxWaiting: def({
    section: 'ingress',
    env: 'STOCKADE_INGRESS_MAX_WAITING',
    default: 100_000,
    defaultText: '`100000`',
    parse: integer(0, 10_000_000),
    description: 'command long-polls an ingress holds at once; past it a poll is answered at once',
  }),
  ingressMaxConnections: def({
    section: 'ingress',
    env: 'STOCKADE_INGRESS_MAX_CONNECTIONS',
    default: 200_000,
    defaultText: '`200000`',
    parse: integer(1, 10_000_000),
    description: 'agent connections an ingress keeps open at once (mind the open-files limit: one descriptor each)',
  }),
  ingressAccessLog: def({
    section: 'ingress',
    env: 'STOCKADE_INGRESS_ACCESS_LOG',
    default: 'refusals' as 'all' | 'refusals',
    defaultText: '`refusals`',
    parse: oneOf(['all', 'refusals'] as const),
    description:
      "which agent requests the ingress logs: `refusals` — one line for each request answered 400 or above (route, status, agent's address, time taken); `all` — two lines for every request (received, answered), a cost per request that adds up at fleet scale",
  }),
  ingressFreshnessMs: def({
    section: 'ingress',
    env: 'STOCKADE_INGRESS_FRESHNESS_MS',
    default: 10,
    defaultText: '`10`',
    parse: integer(0, 1000),
    description: 'at most one check of how far the event log goes per this many ms, shared by every agent request',
  }),
  maxSealLag: def({
    section: 'backpressure',
    env: 'STOCKADE_MAX_SEAL_LAG',
    default: 200_000,
    defaultText: '`200000`',
    parse: integer(1, Number.MAX_SAFE_INTEGER),
    description: 'unsealed events beyond which the ingress answers 503 with `Retry-After`',
  }),
  maxProjectionLag: def({
    section: 'backpressure',
    env: 'STOCKADE_MAX_PROJECTION_LAG',
    default: 200_000,
    defaultText: '`200000`',
    parse: integer(1, Number.MAX_SAFE_INTEGER),
    description: 'events not yet in the slowest live read model beyond which the ingress answers 503',
  }),
  lagRefreshMs: def({
    section: 'backpressure',
    env: 'STOCKADE_LAG_REFRESH_MS',
    default: 1000,
    defaultText: '`1000`',
    parse: integer(0, 3_600_000),
    description: 'how often (ms) the ingress reads the backlogs; 0 reads them on every report',
  }),
  telemetryMaxAgeDays: def({
    section: 'telemetry',
    env: 'STOCKADE_TELEMETRY_MAX_AGE_DAYS',
    default: 30,
    defaultText: '`30`',
    parse: decimal(0.0001, 36_500),
    description: 'oldest agent telemetry (processes, connections, account changes) kept in the TELEMETRY stream, in days',
  }),
  telemetryMaxBytes: def({
    section: 'telemetry',
    env: 'STOCKADE_TELEMETRY_MAX_BYTES',
    default: 10 * 1024 ** 3,
    defaultText: '`10737418240` (10 GiB)',
    parse: integer(1024 * 1024, Number.MAX_SAFE_INTEGER),
    description: 'largest the TELEMETRY stream may grow; the oldest items make room (their batches stay sealed, their proofs are gone)',
  }),
  evidenceMaxBytes: def({
    section: 'telemetry',
    env: 'STOCKADE_EVIDENCE_MAX_BYTES',
    default: 64 * 1024 * 1024,
    defaultText: '`67108864` (64 MiB)',
    parse: integer(1, 1024 ** 3),
    description: 'largest evidence file an agent may upload (collect-evidence); kept in the object store bucket `stk-evidence-<tenant>`',
  }),
  keyDir: def({
    section: 'ledger',
    flag: { name: '--key-dir', arg: 'DIR', commands: ['sealer'] },
    env: 'STOCKADE_LEDGER_KEY_DIR',
    default: ({ dataDir }: { dataDir: string }) => `${dataDir}/ledger`,
    defaultText: '`<data>/ledger`',
    parse: text,
    description: "the sealer's Ed25519 keyring (0700/0600)",
  }),
  blockMaxEntries: def({
    section: 'ledger',
    flag: { name: '--block-max-entries', arg: 'N', commands: ['sealer'] },
    env: 'STOCKADE_LEDGER_BLOCK_MAX_ENTRIES',
    default: 1000,
    defaultText: '`1000`',
    parse: integer(1, 5000),
    description: 'a ledger block holds at most N entries (at most 5000: a block must fit in one NATS message)',
  }),
  blockMaxMs: def({
    section: 'ledger',
    flag: { name: '--block-max-ms', arg: 'MS', commands: ['sealer'] },
    env: 'STOCKADE_LEDGER_BLOCK_MAX_MS',
    default: 250,
    defaultText: '`250`',
    parse: integer(1, 3_600_000),
    description: 'a block is signed at most this long after its first entry',
  }),
  checkpointMs: def({
    section: 'ledger',
    flag: { name: '--checkpoint-ms', arg: 'MS', commands: ['sealer'] },
    env: 'STOCKADE_LEDGER_CHECKPOINT_MS',
    default: 60_000,
    defaultText: '`60000`',
    parse: integer(1, 86_400_000),
    description: 'time between signed checkpoints of every chain head',
  }),
  checkpointDir: def({
    section: 'ledger',
    flag: { name: '--checkpoint-dir', arg: 'DIR', commands: ['sealer'] },
    env: 'STOCKADE_LEDGER_CHECKPOINT_DIR',
    default: null as string | null,
    defaultText: '',
    parse: optionalText,
    description: "also keep each tenant's newest checkpoint note in this folder (`<tenant>.checkpoint`), ideally another host's mount",
  }),
  witnesses: def({
    section: 'ledger',
    flag: { name: '--witness', arg: 'URLS', commands: ['sealer'] },
    env: 'STOCKADE_LEDGER_WITNESSES',
    default: [] as string[],
    defaultText: '',
    parse: (raw) => {
      const list = urls(raw);
      for (const u of list) httpUrl(u);
      return list;
    },
    description: 'C2SP tlog-witnesses (their submission URL prefixes, comma-separated) that cosign each checkpoint',
  }),
  origin: def({
    section: 'ledger',
    flag: { name: '--origin', arg: 'ORIGIN', commands: ['sealer'] },
    env: 'STOCKADE_LEDGER_ORIGIN',
    default: null as string | null,
    defaultText: '`stockade/<first key id>`',
    parse: (raw) => {
      if (!/^[!-*,-~]{1,200}$/.test(raw) || raw.includes('/tenant/'))
        throw new InvalidSetting('must be a schema-less URL without spaces or `+` (chosen once: witnesses remember it)');
      return raw;
    },
    description: "the install origin: each tenant's log is `<origin>/tenant/<tenant>` in its checkpoints",
  }),
  sealerHttp: def({
    section: 'sealer',
    flag: { name: '--http', arg: 'HOST:PORT', commands: ['sealer'] },
    env: 'STOCKADE_SEALER_HTTP',
    default: null as { host: string; port: number } | null,
    defaultText: '(none)',
    parse: hostPort,
    description: '`/healthz` and `/metrics` of a separate `stockade sealer` process',
  }),
  workerId: def({
    section: 'sealer',
    flag: { name: '--worker-id', arg: 'ID', commands: ['sealer'] },
    env: 'STOCKADE_WORKER_ID',
    default: null as string | null,
    defaultText: 'serve: kept in `<data>`; `stockade sealer`: new per process',
    parse: (raw) => {
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(raw)) throw new InvalidSetting('must be 1 to 64 of A-Z a-z 0-9 _ -');
      return raw;
    },
    description: "this worker's id for partition leases; a restart with the same id takes its leases back at once",
  }),
  silenceSeconds: def({
    section: 'detector',
    env: 'STOCKADE_AGENT_SILENCE_SECONDS',
    default: 600,
    defaultText: '`600`',
    parse: integer(30, 30 * 86_400),
    description: 'an agent not heard from for this long is reported silent (rule "Agent Stopped or Silent")',
  }),
  publicUrl: def({
    section: 'detector',
    env: 'STOCKADE_PUBLIC_URL',
    default: null as string | null,
    defaultText: '`http://<--http>`',
    parse: httpUrl,
    description: 'where operators reach the dashboard: the base of the alert links in notifications',
  }),
  notifyAllowLoopback: def({
    section: 'detector',
    env: 'STOCKADE_NOTIFY_ALLOW_LOOPBACK',
    default: false,
    defaultText: 'unset',
    parse: flag,
    description: 'let channels reach loopback receivers, `http://` ones included (tests, development)',
  }),
  notifyAllowPrivate: def({
    section: 'detector',
    env: 'STOCKADE_NOTIFY_ALLOW_PRIVATE',
    default: false,
    defaultText: 'unset',
    parse: flag,
    description: 'let channels reach receivers on private networks (RFC 1918, fc00::/7)',
  }),
  notifyCaFile: def({
    section: 'detector',
    env: 'STOCKADE_NOTIFY_CA_FILE',
    default: null as string | null,
    defaultText: '',
    parse: optionalText,
    description: 'PEM file of CA certificates trusted for https receivers and SMTP STARTTLS, besides the system store',
  }),
  fieldEncryption: def({
    section: 'lifecycle',
    env: 'STOCKADE_FIELD_ENCRYPTION',
    default: true,
    defaultText: '`on`',
    parse: (raw) => {
      if (raw !== 'on' && raw !== 'off') throw new InvalidSetting('must be on or off');
      return raw === 'on';
    },
    description: 'seal personal fields of events (AES-256-GCM, keys in NATS KV); `off` stores them in the clear, where no erasure can reach them',
  }),
  retention: def({
    section: 'lifecycle',
    flag: { name: '--retention', arg: 'LIST', commands: ['serve'] },
    env: 'STOCKADE_RETENTION',
    default: { ...RETENTION_DEFAULTS },
    defaultText: '`events=forever,evidence=365,scan-items=180,telemetry=30`',
    parse: retentionDays,
    description: 'days each kind of data is kept (`kind=days|forever`); a tenant may set its own',
  }),
  retentionIntervalMs: def({
    section: 'lifecycle',
    env: 'STOCKADE_RETENTION_INTERVAL_MS',
    default: 3_600_000,
    defaultText: '`3600000`',
    parse: integer(1000, 7 * 86_400_000),
    description: 'how often (ms) the lifecycle role applies retention and expires agent commands',
  }),
  commandExpiry: def({
    section: 'lifecycle',
    flag: { name: '--command-expiry', arg: 'LIST', commands: ['serve'] },
    env: 'STOCKADE_COMMAND_EXPIRY',
    default: { ...COMMAND_EXPIRY_DEFAULTS },
    defaultText: '`default=1h/24h`, shorter for `ping`, `kill-process`, `isolate-host`, account actions',
    parse: commandExpiry,
    description: 'how long agent commands wait for their agent, per action (`action=default/max`, e.g. `isolate-host=15m/1h`)',
  }),
} as const;

export type SettingName = keyof typeof SETTINGS;
type ValueOf<D> = D extends SettingDef<infer T> ? T : never;
/** Every setting's value, by name. */
export type SettingValues = { -readonly [K in SettingName]: ValueOf<(typeof SETTINGS)[K]> };

/** The commander option key of a flag (`--nats-url` → `natsUrl`). */
export function flagKey(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Reads every setting: a flag of `command` wins over its variable, which wins over the default.
 * The first invalid value stops with STK_ERR_CONFIG naming the flag or variable.
 */
export function readSettings(command: SettingCommand, flags: Record<string, unknown>, env: NodeJS.ProcessEnv): SettingValues {
  const out: Record<string, unknown> = {};
  let dataDir = DEFAULT_DATA_DIR;
  for (const [name, d] of Object.entries(SETTINGS) as Array<[SettingName, SettingDef<unknown>]>) {
    const flag = d.flag?.commands.includes(command) ? d.flag.name : undefined;
    const fromFlag = flag ? flags[flagKey(flag)] : undefined;
    const fromEnv = d.env ? env[d.env] : undefined;
    const [raw, source] =
      fromFlag !== undefined && fromFlag !== null ? [String(fromFlag), flag!] : fromEnv !== undefined && fromEnv !== '' ? [fromEnv, d.env!] : [undefined, ''];
    if (raw === undefined) {
      out[name] = typeof d.default === 'function' ? (d.default as (o: { dataDir: string }) => unknown)({ dataDir }) : d.default;
    } else {
      try {
        out[name] = d.parse(raw);
      } catch (err) {
        if (!(err instanceof InvalidSetting)) throw err;
        const shown = d.secret ? '' : `, got ${JSON.stringify(raw.length > 80 ? `${raw.slice(0, 80)}…` : raw)}`;
        throw new StkError('STK_ERR_CONFIG', `${source} ${(err as Error).message}${shown}`, { setting: source });
      }
    }
    if (name === 'data') dataDir = out[name] as string;
  }
  return out as SettingValues;
}
