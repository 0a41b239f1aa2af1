// Small steps the story repeats: read a whole list, wait for something the install does on its own,
// send a command and have the host's demo agent carry it out.
import type { ActionResult } from '../agent/actions/result.ts';
import { StkError } from '../errors.ts';
import type { DemoAgent } from './agent.ts';
import { answer, type CustomerState } from './answers.ts';
import type { OperatorApi } from './operator.ts';

/** Every item of a list route (all pages); `query` without `limit` or `cursor`. */
export async function listAll<T>(api: OperatorApi, path: string, query = ''): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  do {
    const q = `limit=200${query ? `&${query}` : ''}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page: { items: T[]; nextCursor: string | null } = await api.call('GET', `${path}?${q}`);
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/**
 * Asks `check` again until it answers something, until `timeoutMs`: for what the install does on
 * its own after an answer was given (a projection, the detector, the ingress's command view).
 */
export async function until<T>(what: string, tenant: string, timeoutMs: number, check: () => Promise<T | null | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let pause = 50; ; pause = Math.min(pause * 2, 1000)) {
    const got = await check();
    if (got !== null && got !== undefined) return got;
    if (Date.now() > deadline)
      throw new StkError('STK_ERR_DEMO_STALLED', `${tenant}: ${what} did not happen within ${timeoutMs} ms`, { tenant, what, waitedMs: timeoutMs });
    await new Promise((r) => setTimeout(r, pause));
  }
}

/** Sends a command to an agent; answers the command id (or the four-eyes request when the policy gates it). */
export async function dispatch(
  api: OperatorApi,
  tenant: string,
  agent: DemoAgent,
  action: string,
  args: Record<string, unknown> = {},
): Promise<{ id?: string; approvalId?: string }> {
  return api.call('POST', `/tenants/${tenant}/agents/${agent.agentId}/commands`, { action, args });
}

/** The agent pulls its commands until `commandId` is among them, carries it out and posts the result. */
export async function carryOut(agent: DemoAgent, commandId: string, s: CustomerState, tenant: string, timeoutMs: number): Promise<ActionResult> {
  const cmd = await until(`command ${commandId} reaching ${agent.host.hostname}`, tenant, timeoutMs, async () =>
    (await agent.commands()).find((c) => c.id === commandId),
  );
  return answer(agent, cmd, s);
}

/** Dispatches and has the agent answer at once; answers the command id. */
export async function command(
  api: OperatorApi,
  tenant: string,
  agent: DemoAgent,
  s: CustomerState,
  timeoutMs: number,
  action: string,
  args: Record<string, unknown> = {},
): Promise<string> {
  const sent = await dispatch(api, tenant, agent, action, args);
  if (!sent.id) throw new StkError('STK_ERR_INTERNAL', `${tenant}: ${action} became a four-eyes request; the demo sends it before the policy gates it`);
  await carryOut(agent, sent.id, s, tenant, timeoutMs);
  return sent.id;
}
