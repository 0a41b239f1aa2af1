import type { Role } from './config/mod.ts';
import type { ApiPlugin } from './http/api.ts';
import type { Runtime, Started } from './runtime.ts';
import { startIngressRole } from './ingress/role.ts';
import { dashboardPlugin } from './dashboard/mod.ts';
import { operatorApi } from './api/plugin.ts';
import { startSealerRole } from './ledger/role.ts';
import { startDetectorRole } from './detect/role.ts';
import { startLifecycleRole } from './lifecycle/role.ts';
import { startScannerRole } from './scan/runs/scanner.ts';

/**
 * The operator API's plugins, each under /api/v1. Every area of the API adds itself here.
 */
export const API_PLUGINS: ApiPlugin[] = [operatorApi];

/** Plugins of the API process outside /api/v1, on the same origin: the dashboard under /ui. */
export const SITE_PLUGINS: ApiPlugin[] = [dashboardPlugin];

/**
 * How each non-API role starts inside a process. `serve --role` picks from these; the API role is
 * started by serve itself because every process that answers HTTP needs it first.
 */
export const ROLE_STARTERS: Partial<Record<Exclude<Role, 'api'>, (rt: Runtime) => Promise<Started>>> = {
  sealer: startSealerRole,
  ingress: startIngressRole,
  detector: startDetectorRole,
  lifecycle: startLifecycleRole,
  scanner: startScannerRole,
};
