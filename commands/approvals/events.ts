import type { Role } from '../../src/api/permissions.ts';
import type { GatedAction } from '../settings/events.ts';
import { accountSubject, agentSubject, subjectsOf, TENANT_SUBJECT, type PersonalFields } from '../../src/domain/personal.ts';

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
  | { kind: 'dispatch'; agentId: string; action: string; args: Record<string, unknown>; expiresInSeconds?: number }
  | { kind: 'suspend'; reason: string }
  | { kind: 'access'; userId: string; roles: Role[] }
  /** Erase a data subject (crypto-shredding, src/privacy); the subject is sealed under its own key. */
  | { kind: 'erase'; subject: string; reference?: string }
  /** Offboard the customer (src/lifecycle/offboard.ts). */
  | { kind: 'offboard' }
  /** Put a custom detection rule live: upload it, or replace the rule `replaces` (same id). */
  | { kind: 'custom-rule'; ruleId: string; name: string; yaml: string; replaces: string | null };

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

/**
 * What a request holds of people: a command's arguments (its machine, any account they name), the
 * subject an erasure names (under that subject's own key: erasing it shreds the request's copy too),
 * reasons (the customer's text).
 */
export const ApprovalPersonal: PersonalFields = {
  [ApprovalEvents.requested]: {
    fields: ['action.args', 'action.subject', 'action.reference', 'action.reason'],
    subjects: (e) => {
      const a = (e.data as ApprovalRequested).action;
      if (a.kind === 'dispatch') return [agentSubject(a.agentId), ...subjectsOf(a.args, ['account', 'user', 'username'], accountSubject)];
      if (a.kind === 'erase') return [a.subject];
      return [TENANT_SUBJECT];
    },
  },
  [ApprovalEvents.rejected]: { fields: ['reason'], subjects: () => [TENANT_SUBJECT] },
};
