import { benchLog } from './log.ts';

/** Bench parts by name; every issue that adds a figure adds its part here. */
export const PARTS: Record<string, () => Promise<void>> = {
  log: benchLog,
};
