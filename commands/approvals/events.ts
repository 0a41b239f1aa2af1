import type { Role } from '../../src/api/permissions.ts';
import type { GatedAction } from '../settings/events.ts';

/**
 * Four eyes: aggregate `approval` in the customer's tenant. A request is an event; a second
 * person's approval (or rejection) is another; only after the approval is the action issued,
 * with ids derived from the request, so the action exists at most once.
 */
export const APPROVAL = 'approval';

export const ApprovalEvents = {
  requested: 'approval.requested',
  approved: 'approval.approved',
  rejected: 'approval.rejected',
  /** The action was issued; carries what it made (a command id) or the refusal it met. */
  executed: 'approval.executed',
} as const;

/** The action waiting for its second person, exactly as it will be issued. */
export type ApprovalAction =
  | { kind: 'dispatch'; agentId: string; action: string; args: Record<string, unknown> }
  | { kind: 'suspend'; reason: string }
  | { kind: 'access'; userId: string; roles: Role[] };

/** Who asked or decided: the actor id, and the person behind it (null for a token or the admin key). */
export interface Person {
  actorId: string;
  userId: string | null;
}

export interface ApprovalRequested {
  gate: GatedAction;
  action: ApprovalAction;
  requester: Person;
  expiresAt: string;
}

export interface ApprovalDecided {
  by: Person;
  reason: string;
}

export interface ApprovalExecuted {
  outcome: 'issued' | 'refused';
  /** The id of what the action made (a command id), or the code that refused it. */
  ref: string;
}
