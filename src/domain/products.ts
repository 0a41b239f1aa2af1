/**
 * Products a tenant can turn on. A new tenant has none: only the core (agents, alerts, incidents,
 * commands, audit, ledger), which is always on.
 */
export const PRODUCTS = ['edr', 'identity', 'attack-surface', 'patch'] as const;
export type Product = (typeof PRODUCTS)[number];

/**
 * Which product each agent command action needs; `null` = core. The ingress and the operator API
 * both refuse an action whose product is off.
 */
export const ACTIONS: Record<string, Product | null> = {
  ping: null,
  'collect-inventory': null,
  'isolate-host': 'edr',
  'release-host': 'edr',
  'collect-evidence': 'edr',
  'kill-process': 'edr',
  'disable-account': 'identity',
  'reset-credentials': 'identity',
  'lock-account': 'identity',
  'expire-account': 'identity',
  'run-scan': 'attack-surface',
  'install-patches': 'patch',
};

/** Route areas of the operator API that belong to a product (any one of those listed turns it on). */
export const AREA_PRODUCTS: Record<string, readonly Product[]> = {
  findings: ['patch', 'attack-surface', 'identity'],
  scans: ['attack-surface'],
  assets: ['attack-surface'],
  patches: ['patch'],
  evidence: ['edr'],
  processes: ['edr'],
  connections: ['edr'],
  identities: ['identity'],
  telemetry: ['edr', 'identity'],
};
