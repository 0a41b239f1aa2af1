import { installPatchesArgsSchema } from '../agent/patch/schemas.ts';
import { MAX_REQUEST_TARGETS } from '../scan/allowlist.ts';
import { MAX_PORT_ENTRIES } from '../scan/ports.ts';
import { SCAN_OPTION_BOUNDS } from './action-args.ts';

/** Why an operator sent it; kept with the command (and the audit trail) for whoever reads it later. */
const reason = { type: 'string', title: 'Reason', maxLength: 500 };
/** A local account name, as usermod takes it. */
const localAccount = { type: 'string', title: 'Account', maxLength: 64, pattern: '^[a-z_][a-z0-9_.-]*\\$?$' };
/** A directory account: sAMAccountName, user principal name, SID or DN (the agent finds the one it names); or a local name. */
const directoryAccount = { type: 'string', title: 'Account', minLength: 1, maxLength: 256, pattern: '^[^\\u0000-\\u001f\\u007f]+$' };
const accountSource = { type: 'string', title: 'Where the account is', enum: ['directory', 'local'] };

/**
 * The arguments of each agent command action, as JSON schemas (Ajv, draft-07 subset). The operator
 * API validates a dispatch's `args` against its action's schema before anything is written, and the
 * dashboard builds each action's form from the same schema (`title`, `description`, `default` are
 * for the form). Keep them in step with what the agent's actions read (`src/agent/actions`).
 */
export const ACTION_ARGS: Record<string, object> = {
  ping: { type: 'object', additionalProperties: false, properties: {} },
  'collect-inventory': { type: 'object', additionalProperties: false, properties: {} },
  'isolate-host': {
    type: 'object',
    additionalProperties: false,
    description: 'Cuts the host off the network except for the ingress, so the agent stays reachable.',
    properties: {
      reason,
      ingressHost: { type: 'string', title: 'Ingress host the agent keeps', maxLength: 253, pattern: '^[A-Za-z0-9.:\\[\\]-]+$' },
      ingressPort: { type: 'integer', title: 'Ingress port', minimum: 1, maximum: 65535 },
    },
  },
  'release-host': { type: 'object', additionalProperties: false, properties: { reason } },
  'collect-evidence': {
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    properties: {
      path: {
        type: 'string',
        title: 'File on the host',
        description: 'An absolute path, e.g. /var/log/auth.log',
        minLength: 2,
        maxLength: 4096,
        pattern: '^/',
      },
      maxBytes: { type: 'integer', title: 'Largest size (bytes)', minimum: 1, maximum: 104_857_600, default: 10_485_760 },
    },
  },
  'kill-process': {
    type: 'object',
    additionalProperties: false,
    required: ['pid'],
    properties: {
      pid: { type: 'integer', title: 'Process id', minimum: 2, maximum: 4_194_304 },
      reason,
      sha256: { type: 'string', title: 'Only if its executable has this SHA-256', pattern: '^[0-9a-f]{64}$' },
    },
  },
  'disable-account': {
    type: 'object',
    additionalProperties: false,
    required: ['account'],
    description: 'A directory account (when the agent has directory settings) or, with source local, a local account (locked and expired).',
    properties: { account: directoryAccount, source: accountSource, reason },
  },
  'reset-credentials': {
    type: 'object',
    additionalProperties: false,
    required: ['account'],
    description: 'The password must be changed at the next logon (directory), or at the next login (source local).',
    properties: { account: directoryAccount, source: accountSource, reason },
  },
  'lock-account': { type: 'object', additionalProperties: false, required: ['account'], properties: { account: localAccount, reason } },
  'expire-account': { type: 'object', additionalProperties: false, required: ['account'], properties: { account: localAccount, reason } },
  // The same rules as checkRunScanArgs (src/domain/action-args.ts), which also checks the targets against the allowlist.
  'run-scan': {
    type: 'object',
    additionalProperties: false,
    required: ['targets'],
    description: "TCP connect scan with banners, TLS and certificates, from the agent's host; only targets inside the declared allowlist.",
    properties: {
      targets: {
        type: 'array',
        title: 'Targets (addresses, CIDR blocks or host names)',
        minItems: 1,
        maxItems: MAX_REQUEST_TARGETS,
        items: { type: 'string', minLength: 1, maxLength: 260, pattern: '^[A-Za-z0-9.:/*_-]+$' },
      },
      ports: {
        type: 'array',
        title: 'Ports or ranges like 8000-8100 (default: the common ones)',
        minItems: 1,
        maxItems: MAX_PORT_ENTRIES,
        items: {
          anyOf: [
            { type: 'integer', minimum: 1, maximum: 65535 },
            { type: 'string', pattern: '^[1-9][0-9]{0,4}(-[1-9][0-9]{0,4})?$' },
          ],
        },
      },
      ratePerSecond: {
        type: 'number',
        title: 'Connections started per second',
        minimum: SCAN_OPTION_BOUNDS.ratePerSecond[0],
        maximum: SCAN_OPTION_BOUNDS.ratePerSecond[1],
        default: 100,
      },
      concurrency: {
        type: 'integer',
        title: 'Probes at once',
        minimum: SCAN_OPTION_BOUNDS.concurrency[0],
        maximum: SCAN_OPTION_BOUNDS.concurrency[1],
        default: 32,
      },
      connectTimeoutMs: {
        type: 'integer',
        title: 'Connect timeout (ms)',
        minimum: SCAN_OPTION_BOUNDS.connectTimeoutMs[0],
        maximum: SCAN_OPTION_BOUNDS.connectTimeoutMs[1],
      },
      probeTimeoutMs: {
        type: 'integer',
        title: 'TLS/HTTP probe timeout (ms)',
        minimum: SCAN_OPTION_BOUNDS.probeTimeoutMs[0],
        maximum: SCAN_OPTION_BOUNDS.probeTimeoutMs[1],
      },
      services: { type: 'boolean', title: 'Look at open ports (banner, TLS, HTTP)' },
      tls: { type: 'boolean', title: 'Try TLS on silent ports' },
      cipherEnumeration: { type: 'boolean', title: 'Enumerate weak cipher suites' },
    },
  },
  'install-patches': installPatchesArgsSchema,
};
