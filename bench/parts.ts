import { benchDashboard } from './dashboard.ts';
import { benchLog } from './log.ts';
import { benchIngress } from './ingress.ts';
import { benchEdge } from './edge.ts';
import { benchLedger } from './ledger.ts';
import { benchLists, benchLiveReports, benchOverview, benchRebuild } from './projections.ts';
import { benchLoad } from './load.ts';
import { benchConsumers } from './consumers.ts';
import { benchFleet } from './fleet.ts';
import { benchBackup } from './backup.ts';
import { benchAgent } from './agent.ts';
import { benchDetect } from './detect.ts';
import { benchMerkle } from './merkle.ts';
import { benchNotify } from './notify.ts';
import { benchPatch } from './patch.ts';
import { benchScan } from './scan.ts';
import { benchPeople } from './people.ts';
import { benchTelemetry } from './telemetry.ts';
import { benchLifecycle } from './lifecycle.ts';
import { benchInventories, benchScanRuns } from './asm-patch.ts';

/** Bench parts by name; every issue that adds a figure adds its part here. */
export const PARTS: Record<string, () => Promise<void>> = {
  log: benchLog,
  ingress: benchIngress,
  edge: benchEdge,
  ledger: benchLedger,
  rebuild: benchRebuild,
  live: benchLiveReports,
  lists: benchLists,
  overview: benchOverview,
  dashboard: benchDashboard,
  load: async () => {
    await benchFleet();
    console.log('\n  the short profile, for comparison:');
    await benchLoad();
  },
  'load-fleet': benchFleet,
  'load-short': benchLoad,
  consumers: benchConsumers,
  backup: benchBackup,
  agent: benchAgent,
  detect: benchDetect,
  merkle: benchMerkle,
  notify: benchNotify,
  patch: benchPatch,
  scan: benchScan,
  people: benchPeople,
  telemetry: benchTelemetry,
  lifecycle: benchLifecycle,
  'scan-runs': benchScanRuns,
  inventories: benchInventories,
};
