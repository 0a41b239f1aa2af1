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

/**
 * A poster for the reference agent's enrolled state: one keep-alive mTLS connection pool; a busy
 * ingress (503, 429) is asked again after its `Retry-After`, with the same body, a few times.
 */
export function posterFor(state: AgentState, o: { maxRetries?: number } = {}): AgentPoster & { close(): void } {
  const agent = new Agent({ ca: state.caPem, cert: state.certPem, key: state.keyPem, keepAlive: true, maxSockets: 2 });
  return {
    agentId: state.agentId,
    async post(path, body) {
      for (let attempt = 0; ; attempt++) {
        const r = await call(agent, state.url, 'POST', path, body);
        if ((r.status !== 503 && r.status !== 429) || attempt >= (o.maxRetries ?? 5)) return r;
        const after = Number(r.headers['retry-after']);
        await sleep(Number.isFinite(after) ? after * 1000 : 500 * 2 ** attempt);
      }
    },
    close: () => agent.destroy(),
  };
}
