/**
 * JSON schemas (Ajv, as the ingress uses them) of what an agent sends for a scan run: its items,
 * the host's listening services, and the run's seal. Bounds are generous for real scans and small
 * enough that one part of a run stays within the route's body limit.
 */
import { TOKEN_ID_PATTERN } from '../../ids.ts';
import { WEAK_CLASSES } from '../cipher-suites.ts';
import { MAX_REQUEST_TARGETS } from '../allowlist.ts';
import { MAX_PORT_ENTRIES } from '../ports.ts';
import { TLS_VERSIONS } from '../tls-hello.ts';
import { RUN_MAX_ITEMS } from './items.ts';

/** Most items one part of a run may carry. */
export const RUN_PART_MAX_ITEMS = 2000;
/** Largest body of one part (items of TLS ports are a few KiB each). */
export const SCAN_RUN_MAX_BODY_BYTES = 8 * 1024 * 1024;
/** Most listening services a run may carry. */
export const SERVICES_MAX = 4096;

const str = (maxLength: number) => ({ type: 'string', maxLength }) as const;
const time = { type: 'string', format: 'date-time', maxLength: 40 } as const;
const hex64 = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;

const certificate = {
  type: 'object',
  additionalProperties: false,
  required: ['subject', 'issuer', 'sans', 'keyType', 'keyBits', 'notBefore', 'notAfter', 'selfSigned', 'serial', 'sha256'],
  properties: {
    subject: str(2048),
    issuer: str(2048),
    sans: { type: 'array', maxItems: 1024, items: str(1024) },
    keyType: { enum: ['rsa', 'rsa-pss', 'ec', 'ed25519', 'ed448', 'dsa', 'unknown'] },
    keyBits: { type: 'integer', minimum: 0, maximum: 65_536 },
    curve: str(64),
    notBefore: str(40),
    notAfter: str(40),
    selfSigned: { type: 'boolean' },
    serial: str(128),
    sha256: hex64,
  },
} as const;

export const scanItemSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['target', 'address', 'port', 'state'],
  properties: {
    target: str(260),
    address: { type: 'string', maxLength: 45, pattern: '^[0-9a-f.:]+$' },
    port: { type: 'integer', minimum: 1, maximum: 65_535 },
    state: { enum: ['open', 'closed', 'filtered'] },
    banner: str(8192),
    http: { type: 'object', additionalProperties: false, required: ['status'], properties: { status: str(2048), server: str(2048) } },
    tls: {
      type: 'object',
      additionalProperties: false,
      required: ['versions', 'negotiated', 'ciphers'],
      properties: {
        versions: { type: 'array', maxItems: TLS_VERSIONS.length, items: { enum: TLS_VERSIONS } },
        negotiated: {
          anyOf: [
            { type: 'null' },
            { type: 'object', additionalProperties: false, required: ['version', 'cipher'], properties: { version: { enum: TLS_VERSIONS }, cipher: str(128) } },
          ],
        },
        ciphers: {
          type: 'array',
          maxItems: 1024,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['version', 'cipher'],
            properties: { version: { enum: TLS_VERSIONS }, cipher: str(128), weak: { enum: WEAK_CLASSES } },
          },
        },
        certificate,
      },
    },
  },
} as const;

export const serviceSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['protocol', 'address', 'port', 'pid', 'exe', 'name', 'user'],
  properties: {
    protocol: { enum: ['tcp', 'tcp6', 'udp', 'udp6'] },
    address: str(45),
    port: { type: 'integer', minimum: 0, maximum: 65_535 },
    pid: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'null' }] },
    exe: { anyOf: [str(4096), { type: 'null' }] },
    name: { anyOf: [str(64), { type: 'null' }] },
    user: { anyOf: [str(256), { type: 'null' }] },
  },
} as const;

const portList = {
  type: 'array',
  minItems: 1,
  maxItems: MAX_PORT_ENTRIES,
  items: { anyOf: [{ type: 'integer' }, { type: 'string', maxLength: 11 }] },
} as const;

/**
 * `POST /agent/v1/scan-runs`: one part of a run (items `offset…`), and with `seal` the last one.
 * `runId` is the agent's own id for the run (its run-scan command id when it answers one).
 */
export const scanRunBody = {
  type: 'object',
  additionalProperties: false,
  required: ['agentId', 'runId', 'offset', 'items'],
  properties: {
    agentId: { type: 'string', pattern: TOKEN_ID_PATTERN },
    runId: { type: 'string', pattern: TOKEN_ID_PATTERN },
    commandId: { type: 'string', pattern: TOKEN_ID_PATTERN },
    offset: { type: 'integer', minimum: 0, maximum: RUN_MAX_ITEMS },
    items: { type: 'array', maxItems: RUN_PART_MAX_ITEMS, items: scanItemSchema },
    seal: {
      type: 'object',
      additionalProperties: false,
      required: ['count', 'merkleRoot', 'startedAt', 'finishedAt', 'targets', 'ports'],
      properties: {
        count: { type: 'integer', minimum: 0, maximum: RUN_MAX_ITEMS },
        merkleRoot: hex64,
        startedAt: time,
        finishedAt: time,
        aborted: { type: 'boolean' },
        targets: { type: 'array', minItems: 1, maxItems: MAX_REQUEST_TARGETS, items: str(260) },
        ports: portList,
        services: { type: 'array', maxItems: SERVICES_MAX, items: serviceSchema },
      },
    },
  },
} as const;
