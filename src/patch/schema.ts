/**
 * `POST /agent/v1/inventory`: a host's patch inventory (the `patchInventorySchema` of the agent),
 * and after an install-patches job its result per package. A dry run sends the result alone; a
 * real run sends both, the inventory taken after it.
 */
import { TOKEN_ID_PATTERN } from '../ids.ts';
import { INSTALL_MAX_PACKAGES, PACKAGE_NAME_PATTERN, patchInventorySchema, VERSION_PATTERN } from '../agent/patch/schemas.ts';

/** Largest inventory body (20,000 packages at ~200 bytes each, with room). */
export const INVENTORY_MAX_BODY_BYTES = 8 * 1024 * 1024;
/** Output kept per package of a job result (its tail). */
export const JOB_OUTPUT_MAX_CHARS = 4096;

const version = { anyOf: [{ type: 'string', maxLength: 256, pattern: VERSION_PATTERN }, { type: 'null' }] } as const;
const time = { type: 'string', format: 'date-time', maxLength: 40 } as const;

export const jobResultSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['commandId', 'mode', 'dryRun', 'startedAt', 'finishedAt', 'listsRefreshed', 'succeeded', 'rebootRequired', 'results'],
  properties: {
    commandId: { type: 'string', pattern: TOKEN_ID_PATTERN },
    mode: { enum: ['security', 'packages'] },
    dryRun: { type: 'boolean' },
    startedAt: time,
    finishedAt: time,
    listsRefreshed: { type: 'boolean' },
    succeeded: { type: 'boolean' },
    rebootRequired: { type: 'boolean' },
    results: {
      type: 'array',
      maxItems: INSTALL_MAX_PACKAGES * 4,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['package', 'from', 'target', 'to', 'outcome', 'exitCode', 'output', 'outputTruncated', 'alsoChanged'],
        properties: {
          package: { type: 'string', maxLength: 128, pattern: PACKAGE_NAME_PATTERN },
          from: version,
          target: version,
          to: version,
          outcome: { enum: ['upgraded', 'would-upgrade', 'up-to-date', 'not-installed', 'failed'] },
          exitCode: { anyOf: [{ type: 'integer' }, { type: 'null' }] },
          output: { type: 'string', maxLength: JOB_OUTPUT_MAX_CHARS },
          outputTruncated: { type: 'boolean' },
          alsoChanged: {
            type: 'array',
            maxItems: 1000,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['package', 'from', 'to'],
              properties: { package: { type: 'string', maxLength: 128 }, from: version, to: version },
            },
          },
        },
      },
    },
  },
} as const;

export const inventoryBody = {
  type: 'object',
  additionalProperties: false,
  required: ['agentId'],
  properties: {
    agentId: { type: 'string', pattern: TOKEN_ID_PATTERN },
    inventory: patchInventorySchema,
    job: jobResultSchema,
  },
  anyOf: [{ required: ['inventory'] }, { required: ['job'] }],
} as const;
