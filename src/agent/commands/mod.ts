/**
 * Agent command handlers of the attack-surface and patch products, for the agent's run loop:
 * each `(args, ctx) => Promise<ActionResult>`, and the patch inventory collector.
 */
export { type AgentPoster, type CommandContext, posterFor, posterOf, waitUntilClock } from './context.ts';
export { PART_ITEMS, runScanCommand } from './run-scan.ts';
export { holdForWindow, installPatchesCommand, jobOf } from './install-patches.ts';
export { collectPatchInventory } from './inventory.ts';
