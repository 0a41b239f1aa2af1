/**
 * JSON schemas (Ajv, as the ingress and the operator API use) of what crosses the wire for the
 * patch product: the `install-patches` arguments an operator dispatches, a tenant's maintenance
 * window, and the inventory an agent reports. The patterns are the same the agent enforces, so a
 * bad package name is refused at the edge as well as on the host.
 */
import { WEEKDAYS } from './window.ts';

/** Debian package name with optional `:arch` (see version.ts). */
export const PACKAGE_NAME_PATTERN = '^[a-z0-9][a-z0-9+.-]+(:[a-z0-9][a-z0-9-]*)?$';
/** Debian version string. */
export const VERSION_PATTERN = '^([0-9]+:)?[0-9A-Za-z][0-9A-Za-z.+~:-]*$';
/** Most packages an inventory may list (a full desktop has ~3,000; a build server rarely 10,000). */
export const INVENTORY_MAX_PACKAGES = 20_000;
export const INSTALL_MAX_PACKAGES = 500;

const packageName = { type: 'string', maxLength: 128, pattern: PACKAGE_NAME_PATTERN } as const;
const version = { type: 'string', maxLength: 256, pattern: VERSION_PATTERN } as const;
const short = { type: 'string', maxLength: 256 } as const;
const time = { type: 'string', format: 'date-time', maxLength: 40 } as const;
const cveList = { type: 'array', maxItems: 1000, items: { type: 'string', pattern: '^CVE-[0-9]{4}-[0-9]{4,7}$' } } as const;

export const installPatchesArgsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['mode', 'dryRun'],
  properties: {
    mode: { enum: ['security', 'packages'] },
    packages: { type: 'array', minItems: 1, maxItems: INSTALL_MAX_PACKAGES, items: packageName },
    dryRun: { type: 'boolean' },
  },
  // Packages are named with mode `packages` and only then (oneOf, not if/then: a `then` key makes the object a thenable).
  oneOf: [
    { properties: { mode: { const: 'packages' } }, required: ['packages'] },
    { properties: { mode: { const: 'security' } }, not: { required: ['packages'] } },
  ],
} as const;

export const maintenanceWindowSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['days', 'start', 'end', 'timeZone'],
  properties: {
    days: { type: 'array', minItems: 1, maxItems: 7, items: { enum: WEEKDAYS } },
    start: { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' },
    end: { type: 'string', pattern: '^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$' },
    // The zone itself is checked with Intl by validateWindow; the schema bounds its shape.
    timeZone: { type: 'string', maxLength: 64, pattern: '^[A-Za-z][A-Za-z0-9_+/-]*$' },
  },
} as const;

const release = {
  type: 'object',
  additionalProperties: false,
  required: ['origin', 'label', 'suite', 'codename', 'site', 'component', 'trusted', 'date'],
  properties: {
    origin: short,
    label: short,
    suite: short,
    codename: short,
    site: { type: 'string', maxLength: 1024 },
    component: short,
    trusted: { type: 'boolean' },
    date: { anyOf: [time, { type: 'null' }] },
  },
} as const;

export const patchInventorySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'takenAt', 'os', 'packages', 'upgrades', 'newInstalls', 'removals', 'reboot', 'listsRefreshed', 'warnings'],
  properties: {
    kind: { const: 'patch-inventory' },
    takenAt: time,
    os: {
      anyOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['id', 'versionId', 'codename', 'prettyName'],
          properties: { id: short, versionId: short, codename: short, prettyName: short },
        },
        { type: 'null' },
      ],
    },
    packages: {
      type: 'array',
      maxItems: INVENTORY_MAX_PACKAGES,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'version', 'architecture', 'source', 'sourceVersion', 'status', 'held'],
        properties: {
          name: packageName,
          version,
          architecture: short,
          source: short,
          sourceVersion: version,
          status: short,
          held: { type: 'boolean' },
        },
      },
    },
    upgrades: {
      type: 'array',
      maxItems: INVENTORY_MAX_PACKAGES,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['package', 'architecture', 'from', 'to', 'security', 'releases', 'publishedBy', 'keptBack', 'cves'],
        properties: {
          package: packageName,
          architecture: short,
          from: version,
          to: version,
          security: { type: 'boolean' },
          releases: { type: 'array', maxItems: 32, items: release },
          publishedBy: { anyOf: [time, { type: 'null' }] },
          keptBack: { type: 'boolean' },
          cves: cveList,
        },
      },
    },
    newInstalls: { type: 'array', maxItems: INVENTORY_MAX_PACKAGES, items: packageName },
    removals: { type: 'array', maxItems: INVENTORY_MAX_PACKAGES, items: packageName },
    reboot: {
      type: 'object',
      additionalProperties: false,
      required: ['required', 'packages'],
      properties: { required: { type: 'boolean' }, packages: { type: 'array', maxItems: 1000, items: short } },
    },
    listsRefreshed: { type: 'boolean' },
    warnings: { type: 'array', maxItems: 1000, items: { type: 'string', maxLength: 2048 } },
  },
} as const;
