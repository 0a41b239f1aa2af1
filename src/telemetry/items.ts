import type { AccountChangeItem, ConnectionItem, ProcessItem } from './types.ts';
import type { Product } from '../domain/products.ts';
import { TOKEN_ID_PATTERN } from '../ids.ts';
import { canonicalJson, leafHash, merkleRoot } from '../merkle/mod.ts';

/** Most items in one telemetry batch. */
export const TELEMETRY_MAX_ITEMS = 2000;
/** Largest telemetry batch body: 2,000 process starts with long command lines. */
export const TELEMETRY_MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Largest single item as canonical JSON (what is stored and hashed). */
export const TELEMETRY_ITEM_MAX_BYTES = 64 * 1024;

/** The item kinds of TELEMETRY and the product each belongs to: an item of a product that is off is refused. */
export const TELEMETRY_KINDS = {
  process: 'edr',
  connection: 'edr',
  'account-change': 'identity',
} as const satisfies Record<string, Product>;

export type TelemetryKind = keyof typeof TELEMETRY_KINDS;

/** A telemetry item as the schema has checked it (shapes fixed in src/telemetry/types.ts). */
export type TelemetryItem = ProcessItem | ConnectionItem | AccountChangeItem;

const int = (min: number, max: number) => ({ type: 'integer', minimum: min, maximum: max }) as const;
const str = (maxLength: number) => ({ type: 'string', maxLength }) as const;
const nullable = (schema: object) => ({ anyOf: [{ type: 'null' }, schema] }) as const;
const sha256 = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;
const UID_MAX = 4_294_967_295;
const PID_MAX = 4_194_304;

/** The JSON schema of each item kind; no other fields are allowed. */
export const ITEM_SCHEMAS = {
  process: {
    type: 'object',
    additionalProperties: false,
    required: [
      'kind',
      'pid',
      'ppid',
      'uid',
      'user',
      'exe',
      'name',
      'sha256',
      'cmdline',
      'cmdlineTruncated',
      'startedAt',
      'cwd',
      'parentExe',
      'parentName',
      'parentCmdline',
    ],
    properties: {
      kind: { const: 'process' },
      pid: int(1, PID_MAX),
      ppid: int(0, PID_MAX),
      uid: int(0, UID_MAX),
      user: str(256),
      exe: str(4096),
      name: str(64),
      sha256: nullable(sha256),
      cmdline: str(65_536),
      cmdlineTruncated: { type: 'boolean' },
      startedAt: { type: 'string', format: 'date-time', maxLength: 40 },
      cwd: nullable(str(4096)),
      parentExe: nullable(str(4096)),
      parentName: nullable(str(64)),
      parentCmdline: nullable(str(65_536)),
    },
  },
  connection: {
    type: 'object',
    additionalProperties: false,
    required: ['kind', 'protocol', 'state', 'localAddress', 'localPort', 'remoteAddress', 'remotePort', 'pid', 'exe', 'user'],
    properties: {
      kind: { const: 'connection' },
      protocol: { enum: ['tcp', 'tcp6', 'udp', 'udp6'] },
      state: { type: 'string', pattern: '^[A-Z][A-Z0-9_]{0,15}$' },
      localAddress: str(64),
      localPort: int(0, 65535),
      remoteAddress: str(64),
      remotePort: int(0, 65535),
      pid: nullable(int(1, PID_MAX)),
      exe: nullable(str(4096)),
      user: nullable(str(256)),
    },
  },
  'account-change': {
    type: 'object',
    additionalProperties: false,
    required: ['kind', 'source', 'change', 'account', 'uid', 'group', 'privileged', 'details'],
    properties: {
      kind: { const: 'account-change' },
      source: { enum: ['local', 'directory'] },
      change: {
        enum: ['added', 'removed', 'modified', 'group-member-added', 'group-member-removed', 'key-added', 'key-removed', 'sudo-added', 'sudo-removed'],
      },
      account: { type: 'string', minLength: 1, maxLength: 256 },
      uid: nullable(int(0, UID_MAX)),
      group: nullable(str(256)),
      privileged: { type: 'boolean' },
      details: { type: 'object', maxProperties: 64 },
    },
  },
} as const;

/** `POST /agent/v1/telemetry`: one batch, its id (a retry reuses it) and the Merkle root the agent computed. */
export const telemetryBody = {
  type: 'object',
  additionalProperties: false,
  required: ['agentId', 'batchId', 'merkleRoot', 'items'],
  properties: {
    agentId: { type: 'string', pattern: TOKEN_ID_PATTERN },
    batchId: { type: 'string', pattern: TOKEN_ID_PATTERN },
    merkleRoot: sha256,
    items: {
      type: 'array',
      minItems: 1,
      maxItems: TELEMETRY_MAX_ITEMS,
      items: {
        type: 'object',
        required: ['kind'],
        properties: { kind: { enum: Object.keys(TELEMETRY_KINDS) } },
        allOf: (Object.keys(ITEM_SCHEMAS) as TelemetryKind[]).map((k) => ({ if: { properties: { kind: { const: k } } }, then: ITEM_SCHEMAS[k] })),
      },
    },
  },
} as const;

/** A telemetry batch as the wire carries it. */
export interface TelemetryBatch {
  agentId: string;
  batchId: string;
  merkleRoot: string;
  items: TelemetryItem[];
}

const encoder = new TextEncoder();
const anySurrogate = /[\ud800-\udfff]/;
const integerLike = /^(?:0|[1-9]\d*)$/;

/**
 * The canonical JSON of an item whose values are all strings without surrogates, finite numbers,
 * booleans or null — every process and connection item — through the engine's own JSON.stringify
 * over a copy with its keys in sorted order, which writes exactly what `canonicalJson` writes for such values
 * at about a sixth of its cost (test/edr/items.test.ts holds the two together). Null for anything
 * else, which `canonicalJson` then does (and refuses, where there is no canonical form).
 */
function flatCanonical(item: Record<string, unknown>): Uint8Array | null {
  const keys = Object.keys(item).sort();
  // A copy with its keys inserted in order, stringified without a replacer: the engine's fast path.
  const sorted: Record<string, unknown> = {};
  for (const k of keys) {
    // Integer-like keys would be enumerated numerically first, not in string order.
    if (integerLike.test(k)) return null;
    const v = item[k];
    sorted[k] = v;
    if (v === null || typeof v === 'boolean') continue;
    if (typeof v === 'string') {
      if (anySurrogate.test(v)) return null;
      continue;
    }
    if (typeof v === 'number' && Number.isFinite(v)) continue;
    return null;
  }
  return encoder.encode(JSON.stringify(sorted));
}

/** The bytes of each item as TELEMETRY stores them and the Merkle tree hashes them: canonical JSON. */
export function itemBytes(items: readonly unknown[]): Uint8Array[] {
  return items.map((i) => (i !== null && typeof i === 'object' && !Array.isArray(i) ? flatCanonical(i as Record<string, unknown>) : null) ?? canonicalJson(i));
}

/** Hex RFC 6962 root of items given as their bytes. */
export function rootOfBytes(bytes: readonly Uint8Array[]): string {
  return Buffer.from(merkleRoot(bytes.map(leafHash))).toString('hex');
}

/** Hex RFC 6962 root of a batch's items, as agent and ingress both compute it. */
export function telemetryRoot(items: readonly unknown[]): string {
  return rootOfBytes(itemBytes(items));
}
