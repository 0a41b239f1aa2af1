import { suite } from 'uvu';
import { ev, spec } from '../../test/helpers/spec.ts';
import { approvalDecider } from './decider.ts';
import { ApprovalEvents as E } from './events.ts';

const test = suite('approvals decider (four eyes)');
const request = {
  gate: 'isolate-host' as const,
  action: { kind: 'dispatch' as const, agentId: 'a1', action: 'isolate-host', args: {} },
  requester: { actorId: 'user:u1', userId: 'u1' },
  expiresAt: '2026-01-01T01:00:00.000Z',
};
const pending = [ev(E.requested, request)];
const NOW = '2026-01-01T00:30:00.000Z';

test('the requester never decides their own request, through any token or session', () => {
  spec(approvalDecider)
    .given(pending)
    .when({ kind: 'approve', by: { actorId: 'user:u1', userId: 'u1' }, now: NOW })
    .refused('STK_ERR_APPROVAL_SELF');
  spec(approvalDecider)
    .given(pending)
    .when({ kind: 'reject', by: { actorId: 'user:u1', userId: 'u1' }, reason: 'x', now: NOW })
    .refused('STK_ERR_APPROVAL_SELF');
  // Not a person: a service token or the admin key cannot be the second person.
  spec(approvalDecider)
    .given(pending)
    .when({ kind: 'approve', by: { actorId: 'token:t1', userId: null }, now: NOW })
    .refused('STK_ERR_FORBIDDEN');
  spec(approvalDecider)
    .given(pending)
    .when({ kind: 'approve', by: { actorId: 'user:u2', userId: 'u2' }, now: NOW })
    .then([E.approved]);
});

test('a request expires; a decided request is decided once; execution is recorded after approval only', () => {
  spec(approvalDecider)
    .given(pending)
    .when({ kind: 'approve', by: { actorId: 'user:u2', userId: 'u2' }, now: '2026-01-01T01:00:00.000Z' })
    .refused('STK_ERR_APPROVAL_EXPIRED');
  const approved = [...pending, ev(E.approved, { by: { actorId: 'user:u2', userId: 'u2' }, reason: '' })];
  spec(approvalDecider)
    .given(approved)
    .when({ kind: 'reject', by: { actorId: 'user:u3', userId: 'u3' }, reason: 'x', now: NOW })
    .refused('STK_ERR_INVALID_TRANSITION');
  spec(approvalDecider)
    .given(approved)
    .when({ kind: 'record-execution', result: { outcome: 'issued', ref: 'c1' } })
    .then([E.executed]);
  spec(approvalDecider)
    .given(pending)
    .when({ kind: 'record-execution', result: { outcome: 'issued', ref: 'c1' } })
    .then([]);
  spec(approvalDecider)
    .given([])
    .when({ kind: 'approve', by: { actorId: 'user:u2', userId: 'u2' }, now: NOW })
    .refused('STK_ERR_NOT_FOUND');
});

test.run();
