import { TOKEN_ID_PATTERN } from '../ids.ts';
import { CSR_MAX_PEM_CHARS } from '../pki/csr.ts';
import { COMMAND_OUTCOMES } from '../../commands/agent-commands/events.ts';
import { SEVERITIES } from '../../commands/alerts/events.ts';
import { MACHINE_FINGERPRINT_PATTERN } from '../../commands/machines/events.ts';

/** Most events in one report batch. */
export const REPORT_MAX_EVENTS = 500;
/** Largest report body; a batch of 100 typical events is ~30 KB. */
export const REPORT_MAX_BODY_BYTES = 1024 * 1024;
/** Largest enrollment or renewal body (a CSR and a few host facts). */
export const ENROLL_MAX_BODY_BYTES = 16 * 1024;
/** Largest command result body. */
export const RESULT_MAX_BODY_BYTES = 128 * 1024;

const agentId = { type: 'string', pattern: TOKEN_ID_PATTERN } as const;
const text = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength }) as const;
// Free-form details stay small and shallow: they are stored in events forever.
const details = { type: 'object', maxProperties: 64 } as const;
const sha256 = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;
const time = { type: 'string', format: 'date-time', maxLength: 40 } as const;
const printable = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength, pattern: '^[\\x21-\\x7e][\\x20-\\x7e]*$' }) as const;

export const enrollBody = {
  type: 'object',
  additionalProperties: false,
  required: ['secret', 'csr', 'hostname', 'os', 'agentVersion'],
  properties: {
    secret: { type: 'string', maxLength: 256 },
    csr: { type: 'string', maxLength: CSR_MAX_PEM_CHARS },
    hostname: printable(253),
    os: printable(64),
    agentVersion: printable(32),
    /** The machine fingerprint (src/agent/machine.ts); optional for agents that predate it. */
    machine: { type: 'string', pattern: MACHINE_FINGERPRINT_PATTERN },
  },
} as const;

export const renewBody = {
  type: 'object',
  additionalProperties: false,
  required: ['agentId', 'csr'],
  properties: { agentId, csr: { type: 'string', maxLength: CSR_MAX_PEM_CHARS } },
} as const;

/** The `data` schema of each report kind. */
export const KIND_DATA = {
  heartbeat: {
    type: 'object',
    additionalProperties: false,
    properties: { inventory: { ...details, maxProperties: 256 }, agentStartedAt: time, stopping: { type: 'boolean' }, agentVersion: printable(32) },
  },
  alert: {
    type: 'object',
    additionalProperties: false,
    required: ['rule', 'severity', 'title'],
    properties: { rule: printable(128), severity: { enum: SEVERITIES }, title: text(256), details },
  },
  finding: {
    type: 'object',
    additionalProperties: false,
    required: ['title', 'severity', 'subject'],
    properties: {
      product: { enum: ['patch', 'attack-surface', 'identity'] },
      title: text(256),
      severity: { enum: SEVERITIES },
      subject: text(256),
      details,
    },
  },
  'scan-run': {
    type: 'object',
    additionalProperties: false,
    required: ['merkleRoot', 'itemCount', 'startedAt'],
    properties: { merkleRoot: sha256, itemCount: { type: 'integer', minimum: 0, maximum: 100_000_000 }, startedAt: time },
  },
  'agent-health': {
    type: 'object',
    additionalProperties: false,
    required: ['event'],
    properties: {
      event: { enum: ['started', 'stopped', 'clock_skew', 'spool'] },
      agentVersion: printable(32),
      skewSeconds: { type: 'number', minimum: -1e9, maximum: 1e9 },
      spool: {
        type: 'object',
        additionalProperties: false,
        required: ['pendingBatches', 'pendingItems', 'diskBytes', 'droppedBatches', 'droppedItems'],
        properties: {
          pendingBatches: { type: 'integer', minimum: 0 },
          pendingItems: { type: 'integer', minimum: 0 },
          diskBytes: { type: 'integer', minimum: 0 },
          droppedBatches: { type: 'integer', minimum: 0 },
          droppedItems: { type: 'integer', minimum: 0 },
        },
      },
    },
  },
  evidence: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'sha256', 'sizeBytes'],
    properties: { name: text(256), sha256, sizeBytes: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } },
  },
} as const;

export type ReportKind = keyof typeof KIND_DATA;
export const REPORT_KINDS = Object.keys(KIND_DATA) as ReportKind[];

export const reportBody = {
  type: 'object',
  additionalProperties: false,
  required: ['agentId', 'events'],
  properties: {
    agentId,
    /** Chosen by the agent, reused on a retry of the same batch: it makes the retry a no-op. */
    batchId: { type: 'string', pattern: TOKEN_ID_PATTERN },
    events: {
      type: 'array',
      minItems: 1,
      maxItems: REPORT_MAX_EVENTS,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['kind', 'at', 'data'],
        properties: { kind: { enum: REPORT_KINDS }, at: time, data: { type: 'object' } },
        // Each kind's own data schema, chosen by `kind`.
        allOf: REPORT_KINDS.map((k) => ({ if: { properties: { kind: { const: k } } }, then: { properties: { data: KIND_DATA[k] } } })),
      },
    },
  },
} as const;

export const commandsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { agentId },
} as const;

/**
 * Longest a command poll is held open (`?wait=`, seconds): under the 60 s a connection may stay
 * silent behind common load balancers and proxies (an AWS ALB's idle timeout, nginx's
 * `proxy_read_timeout`), so a held poll is not cut on its way; an idle agent makes about one
 * request a minute for its commands.
 */
export const LONG_POLL_MAX_S = 55;

/** `GET /commands`: `wait` holds the poll open until a command arrives, at most that many seconds (capped at LONG_POLL_MAX_S). */
export const commandsPollQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { agentId, wait: { type: 'string', pattern: '^[0-9]{1,4}$' } },
} as const;

export const commandParams = {
  type: 'object',
  additionalProperties: false,
  required: ['commandId'],
  properties: { commandId: { type: 'string', pattern: TOKEN_ID_PATTERN } },
} as const;

export const resultBody = {
  type: 'object',
  additionalProperties: false,
  required: ['agentId', 'outcome'],
  properties: { agentId, outcome: { enum: COMMAND_OUTCOMES }, output: { type: 'string', maxLength: 64 * 1024 } },
} as const;
