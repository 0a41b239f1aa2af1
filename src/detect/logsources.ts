/**
 * The logsources a rule can name and how each Sigma field reads our items (HELPERS.md shapes for
 * telemetry, src/detect/records.ts for what is derived from events). docs/detection.md shows this
 * table; a test keeps the two in step.
 */
import type { Product } from '../domain/products.ts';

/** A field's value as an item holds it; arrays are multi-valued fields (any element may match). */
export type FieldValue = string | number | boolean | null | undefined | readonly (string | number | boolean | null)[];

type Item = Record<string, unknown>;

export interface FieldSpec {
  /** Where the value comes from, for the documentation table. */
  from: string;
  get: (item: Item) => FieldValue;
}

export interface LogsourceDef {
  /** `product/category`, the index key. */
  key: string;
  product: string;
  category: string;
  /** The item `kind` this logsource reads. */
  kind: string;
  /** The product a tenant needs for rules of this logsource to run; null = core, always on. */
  gate: Product | null;
  fields: Record<string, FieldSpec>;
  /** Fields named `<prefix><key>` read `item.<object>[key]` (one level, arrays are multi-valued). */
  dynamic?: { prefix: string; object: string };
}

const pick =
  (name: string) =>
  (item: Item): FieldValue =>
    scalarOrList(item[name]);

function scalarOrList(v: unknown): FieldValue {
  if (v === null || v === undefined || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) {
    const flat = v.filter((e) => e === null || typeof e === 'string' || typeof e === 'number' || typeof e === 'boolean');
    // An empty list is a field with no value: `Field: null` matches it and `Field: '*'` does not.
    return flat.length ? flat : null;
  }
  // Objects are not matchable values; they read as absent rather than as "[object Object]".
  return undefined;
}

const field = (from: string, get: (item: Item) => FieldValue = pick(from)): FieldSpec => ({ from, get });

/** Linux's default ephemeral port range (net.ipv4.ip_local_port_range). */
const EPHEMERAL_LOW = 32768;
const EPHEMERAL_HIGH = 60999;
const ephemeral = (p: unknown): boolean => typeof p === 'number' && p >= EPHEMERAL_LOW && p <= EPHEMERAL_HIGH;

/**
 * Sigma's `Initiated` (the host opened the connection). The connection item has no direction, so
 * it is inferred: a listener did not initiate; otherwise the side holding an ephemeral port is the
 * client. Unknown (null) when both or neither port is ephemeral.
 */
function initiated(item: Item): FieldValue {
  if (item.state === 'LISTEN') return 'false';
  const local = ephemeral(item.localPort);
  const remote = ephemeral(item.remotePort);
  if (local === remote) return null;
  return local ? 'true' : 'false';
}

/** Every logsource rules may name, with its item kind, product gate and Sigma field mapping. */
export const LOGSOURCES: readonly LogsourceDef[] = [
  {
    key: 'linux/process_creation',
    product: 'linux',
    category: 'process_creation',
    kind: 'process',
    gate: 'edr',
    fields: {
      Image: field('exe'),
      CommandLine: field('cmdline'),
      ParentImage: field('parentExe'),
      ParentCommandLine: field('parentCmdline'),
      User: field('user'),
      CurrentDirectory: field('cwd'),
      ProcessId: field('pid'),
      ParentProcessId: field('ppid'),
      Hashes: field('`SHA256=` + sha256', (i) => (typeof i.sha256 === 'string' ? `SHA256=${i.sha256}` : null)),
      OriginalFileName: field('name'),
      Uid: field('uid'),
    },
  },
  {
    key: 'linux/network_connection',
    product: 'linux',
    category: 'network_connection',
    kind: 'connection',
    gate: 'edr',
    fields: {
      DestinationIp: field('remoteAddress'),
      DestinationPort: field('remotePort'),
      SourceIp: field('localAddress'),
      SourcePort: field('localPort'),
      Image: field('exe'),
      User: field('user'),
      Initiated: field('inferred from state and ports (see below)', initiated),
      Protocol: field('protocol'),
      State: field('state'),
      ProcessId: field('pid'),
    },
  },
  {
    key: 'stockade/account_change',
    product: 'stockade',
    category: 'account_change',
    kind: 'account-change',
    gate: 'identity',
    fields: {
      Source: field('source'),
      Change: field('change'),
      Account: field('account'),
      Uid: field('uid'),
      Group: field('group'),
      Privileged: field('privileged'),
    },
    dynamic: { prefix: 'Details.', object: 'details' },
  },
  {
    key: 'stockade/agent_health',
    product: 'stockade',
    category: 'agent_health',
    kind: 'agent-health',
    gate: null,
    fields: {
      Event: field('event'),
      SkewSeconds: field('skewSeconds'),
      SilentSeconds: field('silentSeconds'),
      AgentVersion: field('agentVersion'),
    },
  },
  {
    key: 'stockade/certificate',
    product: 'stockade',
    category: 'certificate',
    kind: 'certificate',
    gate: null,
    fields: {
      Subject: field('subject'),
      Issuer: field('issuer'),
      SerialNumber: field('serialNumber'),
      NotAfter: field('notAfter'),
      DaysToExpiry: field('daysToExpiry'),
      SelfSigned: field('selfSigned'),
      Purpose: field('purpose'),
      Host: field('host'),
      Port: field('port'),
    },
  },
  {
    key: 'stockade/host_isolation',
    product: 'stockade',
    category: 'host_isolation',
    kind: 'host-isolation',
    gate: 'edr',
    fields: {
      State: field('state'),
      Actor: field('actor'),
      Reason: field('reason'),
    },
  },
];

const byKey = new Map(LOGSOURCES.map((l) => [l.key, l]));
const byKind = new Map(LOGSOURCES.map((l) => [l.kind, l]));

/** The logsource of `product`/`category`, if Stockade has data for it. */
export function findLogsource(product: string | undefined, category: string | undefined): LogsourceDef | undefined {
  return byKey.get(`${product}/${category}`);
}

/** The logsource an item of this `kind` feeds. */
export function logsourceOfKind(kind: unknown): LogsourceDef | undefined {
  return typeof kind === 'string' ? byKind.get(kind) : undefined;
}

/** The logsource of a `product/category` key (as rules store it). */
export function logsourceByKey(key: string): LogsourceDef | undefined {
  return byKey.get(key);
}

const DYNAMIC_KEY = /^[A-Za-z0-9_]{1,64}$/;

/** How a Sigma field name reads items of `ls`, or undefined when the logsource has no such field. */
export function resolveField(ls: LogsourceDef, name: string): FieldSpec | undefined {
  const fixed = Object.hasOwn(ls.fields, name) ? ls.fields[name] : undefined;
  if (fixed) return fixed;
  if (!ls.dynamic || !name.startsWith(ls.dynamic.prefix)) return undefined;
  const key = name.slice(ls.dynamic.prefix.length);
  if (!DYNAMIC_KEY.test(key)) return undefined;
  const object = ls.dynamic.object;
  return field(`${object}.${key}`, (item) => {
    const o = item[object];
    return o !== null && typeof o === 'object' && !Array.isArray(o) && Object.hasOwn(o, key) ? scalarOrList((o as Item)[key]) : undefined;
  });
}
