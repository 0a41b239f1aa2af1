import { derivedIds } from '../../domain/execute.ts';

/**
 * The `scan` aggregate of a run an agent made: derived from the agent's own run id, so two agents
 * (or an agent and the server) can never seal into one another's run.
 */
export function agentRunId(tenant: string, agentId: string, agentRunKey: string): string {
  return derivedIds(tenant, agentId, agentRunKey, 'scan-run')(0);
}

/** The scope of a run: the same scanner (an agent, or `scanner`) over the same targets. */
export function scopeIdOf(tenant: string, scanner: string, targets: readonly string[]): string {
  return derivedIds(tenant, scanner, ...[...targets].sort(), 'scan-scope')(0);
}

/** The one finding aggregate of an exposure key in a tenant (keys hold `:` and `.`, so they are hashed). */
export function findingIdOf(tenant: string, key: string): string {
  return derivedIds(tenant, key, 'finding')(0);
}

/** The read model id of item `index` of a run. */
export function itemDocId(runId: string, index: number): string {
  return `i${index}_${runId}`;
}
