import { useEffect, useState } from 'preact/hooks';
import { api, type ListPage, tpath } from './api.ts';
import { useLive } from './live.ts';

/** Agents read for names and the host pickers: five pages of 200, by host name. */
const MAX_PAGES = 5;

/** An agent as the host pickers and host cells need it. */
export interface AgentName {
  id: string;
  hostname: string;
  status: 'active' | 'revoked';
}

const cache = new Map<string, Promise<AgentName[]>>();

async function readAgents(tenant: string, waitFor?: string): Promise<AgentName[]> {
  const out: AgentName[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const p: ListPage<AgentName> = await api.get(tpath(tenant, 'agents'), {
      sort: 'hostname:asc',
      limit: 200,
      ...(cursor ? { cursor } : {}),
      ...(waitFor && page === 0 ? { waitFor } : {}),
    });
    out.push(...p.items.map((a) => ({ id: a.id, hostname: a.hostname, status: a.status })));
    cursor = p.nextCursor;
    if (!cursor) break;
  }
  return out;
}

/**
 * The customer's agents by host name, shared by every component of the page (telemetry lists carry
 * agent ids only): read once per customer, again when an agent changes. Null until read.
 */
export function useAgents(tenant: string): AgentName[] | null {
  const [agents, setAgents] = useState<AgentName[] | null>(null);
  const load = (fresh: boolean, waitFor?: string) => {
    if (fresh || !cache.has(tenant)) {
      const p = readAgents(tenant, waitFor);
      cache.set(tenant, p);
      // A failed read is not kept: the next component asks again.
      p.catch(() => cache.delete(tenant));
    }
    cache
      .get(tenant)!
      .then(setAgents)
      .catch(() => setAgents([]));
  };
  useEffect(() => load(false), [tenant]);
  useLive(['agent'], (changes, token) => {
    if (changes.some((c) => c.type === 'agent.enrolled' || c.type === 'agent.revoked' || c.type === 'resync')) load(true, token);
  });
  return agents;
}

/** Host names by agent id. */
export function namesOf(agents: AgentName[] | null): Map<string, string> {
  return new Map((agents ?? []).map((a) => [a.id, a.hostname]));
}

/** Options of a host filter: `[agentId, hostname]`. */
export function hostOptions(agents: AgentName[] | null): Array<[string, string]> {
  return (agents ?? []).map((a) => [a.id, a.hostname]);
}
