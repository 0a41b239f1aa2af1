import { accept, invalidTransition, notFound, refuse, type Decider } from '../../src/domain/decider.ts';
import { StkError } from '../../src/errors.ts';
import { APPROVAL, ApprovalEvents as E, type ApprovalExecuted, type ApprovalRequested, type Person } from './events.ts';

export type ApprovalStatus = 'none' | 'pending' | 'approved' | 'rejected' | 'executed';

export interface ApprovalState {
  status: ApprovalStatus;
  request: ApprovalRequested | null;
}

export type ApprovalCommand =
  | { kind: 'request'; request: ApprovalRequested }
  | { kind: 'approve'; by: Person; now: string }
  | { kind: 'reject'; by: Person; reason: string; now: string }
  | { kind: 'record-execution'; result: ApprovalExecuted };

/**
 * The second person must be a person (a user, not a token or the admin key) and not the one who
 * asked — compared by user id, so a second session or API token of the requester is still the
 * requester.
 */
function checkSecondPerson(by: Person, requester: Person): StkError | null {
  if (!by.userId) return new StkError('STK_ERR_FORBIDDEN', 'only a signed-in person can approve or reject a four-eyes request', { context: 'four-eyes' });
  if (by.userId === requester.userId || by.actorId === requester.actorId)
    return new StkError('STK_ERR_APPROVAL_SELF', 'a four-eyes request needs a second person: the requester cannot decide it');
  return null;
}

export const approvalDecider: Decider<ApprovalState, ApprovalCommand> = {
  aggregateType: APPROVAL,
  initialState: () => ({ status: 'none', request: null }),
  evolve(s, e) {
    switch (e.type) {
      case E.requested:
        return { status: 'pending', request: e.data as ApprovalRequested };
      case E.approved:
        return { ...s, status: 'approved' };
      case E.rejected:
        return { ...s, status: 'rejected' };
      case E.executed:
        return { ...s, status: 'executed' };
      default:
        return s;
    }
  },
  decide(c, s) {
    if (c.kind === 'request')
      return s.status === 'none' ? accept({ type: E.requested, data: c.request }) : refuse(invalidTransition('request', s.status, 'make it again'));
    if (s.status === 'none' || !s.request) return refuse(notFound('approval request', ''));
    if (c.kind === 'record-execution') return s.status === 'approved' ? accept({ type: E.executed, data: c.result }) : accept();
    if (s.status !== 'pending') return refuse(invalidTransition('request', s.status, c.kind));
    if (Date.parse(s.request.expiresAt) <= Date.parse(c.now))
      return refuse(new StkError('STK_ERR_APPROVAL_EXPIRED', 'the four-eyes request has expired; ask again', { actual: s.request.expiresAt }));
    const problem = checkSecondPerson(c.by, s.request.requester);
    if (problem) return refuse(problem);
    return c.kind === 'approve'
      ? accept({ type: E.approved, data: { by: c.by, reason: '' } })
      : accept({ type: E.rejected, data: { by: c.by, reason: c.reason } });
  },
};
