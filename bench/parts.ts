import { benchDashboard } from './dashboard.ts';
import { benchLog } from './log.ts';
import { benchIngress } from './ingress.ts';
import { benchLedger } from './ledger.ts';
import { benchLists, benchRebuild } from './projections.ts';
import { benchLoad } from './load.ts';
import { benchBackup } from './backup.ts';
import { benchDetect } from './detect.ts';
import { benchNotify } from './notify.ts';

/** Bench parts by name; every issue that adds a figure adds its part here. */
export const PARTS: Record<string, () => Promise<void>> = {
  log: benchLog,
  ingress: benchIngress,
  ledger: benchLedger,
  rebuild: benchRebuild,
  lists: benchLists,
  dashboard: benchDashboard,
  load: benchLoad,
  backup: benchBackup,
  detect: benchDetect,
  notify: benchNotify,
};
