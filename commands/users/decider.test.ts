import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fold } from '../../src/domain/decider.ts';
import { ev, spec } from '../../test/helpers/spec.ts';
import { userDecider } from './decider.ts';
import { UserEvents as E } from './events.ts';

const test = suite('users decider');
const invited = ev(E.invited, {
  name: 'Ada',
  email: 'ada@example.test',
  invitation: { lookup: 'L'.repeat(12), hash: 'h'.repeat(64), expiresAt: '2026-01-02T00:00:00.000Z' },
});
const active = [invited, ev(E.activated, { sealed: 'p1' })];
const NOW = '2026-01-01T12:00:00.000Z';

test('an invitation is used once, before it expires, and only the newest one', () => {
  spec(userDecider)
    .given([invited])
    .when({ kind: 'accept-invitation', lookup: 'L'.repeat(12), password: 'p', now: NOW })
    .then([E.activated]);
  spec(userDecider)
    .given([invited])
    .when({ kind: 'accept-invitation', lookup: 'L'.repeat(12), password: 'p', now: '2026-01-02T00:00:00.000Z' })
    .refused('STK_ERR_INVITATION_INVALID');
  spec(userDecider)
    .given(active)
    .when({ kind: 'accept-invitation', lookup: 'L'.repeat(12), password: 'p', now: NOW })
    .refused('STK_ERR_INVITATION_INVALID');
  const renewed = [invited, ev(E.invitationRenewed, { invitation: { lookup: 'M'.repeat(12), hash: 'g'.repeat(64), expiresAt: '2026-01-05T00:00:00.000Z' } })];
  spec(userDecider)
    .given(renewed)
    .when({ kind: 'accept-invitation', lookup: 'L'.repeat(12), password: 'p', now: NOW })
    .refused('STK_ERR_INVITATION_INVALID');
  spec(userDecider)
    .given(renewed)
    .when({ kind: 'accept-invitation', lookup: 'M'.repeat(12), password: 'p', now: NOW })
    .then([E.activated]);
  spec(userDecider)
    .given([invited])
    .when({ kind: 'invite', user: { name: 'x', email: 'x', invitation: { lookup: 'x', hash: 'x', expiresAt: NOW } } })
    .refused('STK_ERR_USER_EXISTS');
});

test('a recovery code is used once; MFA enrolls once until reset', () => {
  const mfa = [...active, ev(E.mfaEnrolled, { sealed: 't' }), ev(E.recoveryCodesSet, { sealed: 'r', count: 10 })];
  spec(userDecider).given(mfa).when({ kind: 'use-recovery-code', index: 3 }).then([E.recoveryCodeUsed]);
  spec(userDecider)
    .given([...mfa, ev(E.recoveryCodeUsed, { index: 3 })])
    .when({ kind: 'use-recovery-code', index: 3 })
    .refused('STK_ERR_MFA_INVALID');
  spec(userDecider).given(mfa).when({ kind: 'use-recovery-code', index: 10 }).refused('STK_ERR_MFA_INVALID');
  spec(userDecider)
    .given(mfa)
    .when({ kind: 'enroll-totp', totp: 't2', recovery: { sealed: 'r', count: 10 } })
    .refused('STK_ERR_INVALID_TRANSITION');
  spec(userDecider).given(mfa).when({ kind: 'reset-mfa' }).then([E.mfaReset]);
});

test('disable, password change, MFA reset and sign-out everywhere move the session epoch; sign-in needs an active user', () => {
  const epoch = (events: ReturnType<typeof ev>[]) => fold(userDecider, events).epoch;
  assert.is(epoch(active), 0);
  assert.is(epoch([...active, ev(E.disabled, { reason: 'x' })]), 1);
  assert.is(epoch([...active, ev(E.passwordChanged, { sealed: 'p2' }), ev(E.sessionsEnded, {})]), 2);
  assert.is(fold(userDecider, [...active, ev(E.disabled, { reason: 'x' }), ev(E.enabled, {})]).status, 'active');
  spec(userDecider)
    .given([...active, ev(E.disabled, { reason: 'x' })])
    .when({ kind: 'sign-in', signIn: { method: 'password', session: 's', ip: '::1' } })
    .refused('STK_ERR_AUTH_REQUIRED');
  spec(userDecider).given([invited]).when({ kind: 'change-password', password: 'p' }).refused('STK_ERR_INVALID_TRANSITION');
});

test.run();
