import { accept, invalidTransition, refuse, type Decider } from '../../src/domain/decider.ts';
import { StkError } from '../../src/errors.ts';
import { type Invitation, type RecoveryCodesSet, USER, UserEvents as E, type UserInvited, type UserProvisioned, type UserSignedIn } from './events.ts';

export type UserStatus = 'none' | 'invited' | 'active' | 'disabled';

export interface UserState {
  status: UserStatus;
  name: string;
  email: string;
  invitation: (Invitation & { used: boolean }) | null;
  /** Sealed password hash; null for SSO-only users and before activation. */
  password: string | null;
  /** Sealed TOTP secret; null without MFA. */
  totp: string | null;
  recovery: { sealed: string; count: number; used: number[] } | null;
  sso: { issuer: string; subject: string } | null;
  /** Bumped whenever every session must end (disable, password change, MFA reset, sign out everywhere). */
  epoch: number;
  /** Status before a disable, to go back to on enable. */
  before: UserStatus;
}

/** Commands that depend on time carry `now` (ISO); the decider has no clock. */
export type UserCommand =
  | { kind: 'invite'; user: UserInvited }
  | { kind: 'provision'; user: UserProvisioned }
  | { kind: 'renew-invitation'; invitation: Invitation }
  | { kind: 'accept-invitation'; lookup: string; password: string; now: string }
  | { kind: 'change-password'; password: string }
  | { kind: 'enroll-totp'; totp: string; recovery: RecoveryCodesSet }
  | { kind: 'set-recovery-codes'; recovery: RecoveryCodesSet }
  | { kind: 'use-recovery-code'; index: number }
  | { kind: 'reset-mfa' }
  | { kind: 'disable'; reason: string }
  | { kind: 'enable' }
  | { kind: 'end-sessions' }
  | { kind: 'sign-in'; signIn: UserSignedIn };

const invitationInvalid = (why: string) =>
  new StkError('STK_ERR_INVITATION_INVALID', 'this invitation is not valid: it was used, replaced or has expired', { reason: why });

export const userDecider: Decider<UserState, UserCommand> = {
  aggregateType: USER,
  initialState: () => ({
    status: 'none',
    name: '',
    email: '',
    invitation: null,
    password: null,
    totp: null,
    recovery: null,
    sso: null,
    epoch: 0,
    before: 'none',
  }),
  evolve(s, e) {
    // biome-ignore lint/suspicious/noExplicitAny: each case reads the fields of its own event type
    const d = e.data as Record<string, any>;
    switch (e.type) {
      case E.invited:
        return { ...s, status: 'invited', name: d.name, email: d.email, invitation: { ...d.invitation, used: false } };
      case E.provisioned:
        return { ...s, status: 'active', name: d.name, email: d.email, sso: d.sso };
      case E.invitationRenewed:
        return { ...s, invitation: { ...d.invitation, used: false } };
      case E.activated:
        return { ...s, status: 'active', password: d.sealed, invitation: s.invitation ? { ...s.invitation, used: true } : null };
      case E.passwordChanged:
        return { ...s, password: d.sealed, epoch: s.epoch + 1 };
      case E.mfaEnrolled:
        return { ...s, totp: d.sealed };
      case E.recoveryCodesSet:
        return { ...s, recovery: { sealed: d.sealed, count: d.count, used: [] } };
      case E.recoveryCodeUsed:
        return s.recovery ? { ...s, recovery: { ...s.recovery, used: [...s.recovery.used, d.index] } } : s;
      case E.mfaReset:
        return { ...s, totp: null, recovery: null, epoch: s.epoch + 1 };
      case E.disabled:
        return { ...s, before: s.status, status: 'disabled', epoch: s.epoch + 1 };
      case E.enabled:
        return { ...s, status: s.before === 'none' || s.before === 'disabled' ? 'active' : s.before };
      case E.sessionsEnded:
        return { ...s, epoch: s.epoch + 1 };
      default:
        return s;
    }
  },
  decide(c, s) {
    if (c.kind === 'invite' || c.kind === 'provision') {
      if (s.status !== 'none') return refuse(new StkError('STK_ERR_USER_EXISTS', 'a user with this id already exists'));
      return c.kind === 'invite' ? accept({ type: E.invited, data: c.user }) : accept({ type: E.provisioned, data: c.user });
    }
    if (s.status === 'none') return refuse(new StkError('STK_ERR_NOT_FOUND', 'user not found'));
    switch (c.kind) {
      case 'renew-invitation':
        if (s.status !== 'invited') return refuse(invalidTransition('user', s.status, 'invite again'));
        return accept({ type: E.invitationRenewed, data: { invitation: c.invitation } });
      case 'accept-invitation': {
        const inv = s.invitation;
        if (s.status !== 'invited' || !inv || inv.used) return refuse(invitationInvalid('used'));
        if (inv.lookup !== c.lookup) return refuse(invitationInvalid('replaced'));
        if (Date.parse(inv.expiresAt) <= Date.parse(c.now)) return refuse(invitationInvalid('expired'));
        return accept({ type: E.activated, data: { sealed: c.password } });
      }
      case 'change-password':
        if (s.status !== 'active') return refuse(invalidTransition('user', s.status, 'change the password'));
        return accept({ type: E.passwordChanged, data: { sealed: c.password } });
      case 'enroll-totp':
        if (s.status !== 'active') return refuse(invalidTransition('user', s.status, 'enroll MFA'));
        if (s.totp) return refuse(invalidTransition('MFA', 'enrolled', 'enroll again (reset it first)'));
        return accept({ type: E.mfaEnrolled, data: { sealed: c.totp } }, { type: E.recoveryCodesSet, data: c.recovery });
      case 'set-recovery-codes':
        if (!s.totp) return refuse(invalidTransition('MFA', 'not enrolled', 'make recovery codes'));
        return accept({ type: E.recoveryCodesSet, data: c.recovery });
      case 'use-recovery-code':
        // Single use: a code used once (even by a racing request that won) is refused.
        if (!s.recovery || s.recovery.used.includes(c.index) || c.index < 0 || c.index >= s.recovery.count)
          return refuse(new StkError('STK_ERR_MFA_INVALID', 'the code is not valid'));
        return accept({ type: E.recoveryCodeUsed, data: { index: c.index } });
      case 'reset-mfa':
        return s.totp || s.recovery ? accept({ type: E.mfaReset, data: {} }) : accept();
      case 'disable':
        return s.status === 'disabled' ? accept() : accept({ type: E.disabled, data: { reason: c.reason } });
      case 'enable':
        return s.status === 'disabled' ? accept({ type: E.enabled, data: {} }) : accept();
      case 'end-sessions':
        return accept({ type: E.sessionsEnded, data: {} });
      case 'sign-in':
        if (s.status !== 'active') return refuse(new StkError('STK_ERR_AUTH_REQUIRED', 'invalid credential'));
        return accept({ type: E.signedIn, data: c.signIn });
    }
  },
};
