import { isPending, sentForApproval } from '../pages/approvals.tsx';
import { api, tpath } from './api.ts';
import { notify } from './notices.tsx';
import type { PageProps } from './page.ts';

/** What a dispatch answered: the command, or a four-eyes request waiting for a second person. */
export type Dispatched =
  | { kind: 'command'; id: string; consistencyToken: string }
  | { kind: 'approval'; approvalId: string; expiresAt: string; consistencyToken: string };

/**
 * Sends one agent command (`POST …/agents/:agentId/commands`). A destructive action the customer's
 * four-eyes policy gates answers 202 with a request instead: said so in the notice, since nothing
 * reaches the host until someone else approves it.
 */
export async function dispatch(tenant: string, agentId: string, action: string, args: Record<string, unknown>, what: string): Promise<Dispatched> {
  const out = await api.post<{ id?: string; consistencyToken: string }>(tpath(tenant, 'agents', agentId, 'commands'), { action, args });
  if (isPending(out)) {
    sentForApproval(what, out);
    return { kind: 'approval', approvalId: out.approvalId, expiresAt: out.expiresAt, consistencyToken: out.consistencyToken };
  }
  notify(`${what}: sent to the agent.`);
  return { kind: 'command', id: out.id ?? '', consistencyToken: out.consistencyToken };
}

/** Whether the page may offer a command of `action` (the product is on, the role may dispatch, the customer is not suspended). */
export function canDispatch(p: Pick<PageProps, 'session' | 'tenantDoc' | 'can'>, action: string): boolean {
  const product = p.session.actions[action];
  if (product === undefined || !p.tenantDoc || p.tenantDoc.suspended || !p.can('commands.dispatch')) return false;
  return product === null || p.tenantDoc.products.includes(product);
}
