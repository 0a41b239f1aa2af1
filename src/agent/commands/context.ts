import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'node:https';
import { type AgentState, call, type IngressResponse } from '../client.ts';
import type { HostRoot } from '../host-root.ts';

/** Posts JSON to an ingress route as the agent (mTLS) and answers what the ingress said. */
export interface AgentPoster {
  readonly agentId: string;
  post(path: string, body: unknown): Promise<IngressResponse>;
}

/** What an agent command handler gets from the running agent. */
export interface CommandContext {
  /** The host root (`/` on a real host, a prepared folder in tests). */
  root: HostRoot;
  /** The ingress, as this agent: results and items go there. */
  client: AgentPoster;
  /** The id of the command being run (a run-scan's run id, an install-patches job's id). */
  commandId: string;
  /** The clock, as data. @defaultValue () => new Date() */
  now?: () => Date;
  /** Waits until `at` (the maintenance window's start). @defaultValue a timer, woken hourly to re-read the clock */
  waitUntil?: (at: Date, signal?: AbortSignal) => Promise<void>;
  /** Ends a wait or a scan early (the agent is stopping). */
  signal?: AbortSignal;
}

/** Waits until `at` by the wall clock, in steps of at most an hour (a suspended machine's timers drift). */
export async function waitUntilClock(at: Date, signal?: AbortSignal): Promise<void> {
  for (;;) {
    const left = at.getTime() - Date.now();
    if (left <= 0) return;
    await sleep(Math.min(left, 3_600_000), undefined, signal ? { signal } : undefined);
  }
}

/** Posts again after a busy answer (503, 429), after its `Retry-After`, with the same body, a few times. */
function retryingBusy(send: (path: string, body: unknown) => Promise<IngressResponse>, maxRetries: number) {
  return async (path: string, body: unknown): Promise<IngressResponse> => {
    for (let attempt = 0; ; attempt++) {
      const r = await send(path, body);
      if ((r.status !== 503 && r.status !== 429) || attempt >= maxRetries) return r;
      const after = Number(r.headers['retry-after']);
      await sleep(Number.isFinite(after) ? after * 1000 : 500 * 2 ** attempt);
    }
  };
}

/**
 * The poster of the running agent's ingress client (`IngressClient` of `src/agent/run/client.ts`):
 * its connection, certificate and pinned addresses; busy answers are retried.
 */
export function posterOf(
  client: { readonly agentId: string; send(method: string, path: string, body?: unknown): Promise<IngressResponse> },
  o: { maxRetries?: number } = {},
): AgentPoster {
  return { agentId: client.agentId, post: retryingBusy((path, body) => client.send('POST', path, body), o.maxRetries ?? 5) };
}

/** A poster for an enrolled agent's saved state (its own keep-alive mTLS connections): the reference agent's and the tests'. */
export function posterFor(state: AgentState, o: { maxRetries?: number } = {}): AgentPoster & { close(): void } {
  const agent = new Agent({ ca: state.caPem, cert: state.certPem, key: state.keyPem, keepAlive: true, maxSockets: 2 });
  return {
    agentId: state.agentId,
    post: retryingBusy((path, body) => call(agent, state.url, 'POST', path, body), o.maxRetries ?? 5),
    close: () => agent.destroy(),
  };
}
