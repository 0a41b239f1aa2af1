import type { Projection } from '../src/store/model.ts';
import { assetsProjection } from './assets/projection.ts';
import { scanItemsProjection } from './scan-items/projection.ts';

/**
 * The read models fed by the SCANS stream (src/scan/runs/read-side.ts), not by EVENTS: each item
 * arrives as an envelope of type `scan.item` whose aggregate is its run, whose time is when it was
 * stored and whose position is its SCANS sequence.
 */
export const SCANS_PROJECTIONS: readonly Projection[] = [scanItemsProjection, assetsProjection];
