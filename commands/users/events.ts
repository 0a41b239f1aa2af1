import { type PersonalFields, userSubject } from '../../src/domain/personal.ts';
/**
 * Users of the install: aggregate `user`, id = the user id, in the install tenant
 * (`src/people/install.ts`). Credential material (password hash, TOTP secret, recovery code
 * hashes) is never in an event in the clear: it is sealed (AES-256-GCM under the install's people
 * key, bound to the user id), so an export of the install's chain gives nobody a hash to crack.
 */
export const USER = 'user';

export const UserEvents = {
  /** Created by an admin with an invitation (SHA-256 of a single-use secret, expiring). */
  invited: 'user.invited',
  /** A new invitation replaces the old one (the old one stops working). */
  invitationRenewed: 'user.invitation-renewed',
  /** Invitation used: the user set a password and can sign in. */
  activated: 'user.activated',
  /** Created at a first single sign-on, linked to the identity provider's subject. */
  provisioned: 'user.provisioned',
  passwordChanged: 'user.password-changed',
  mfaEnrolled: 'user.mfa-enrolled',
  mfaReset: 'user.mfa-reset',
  recoveryCodesSet: 'user.recovery-codes-set',
  recoveryCodeUsed: 'user.recovery-code-used',
  disabled: 'user.disabled',
  enabled: 'user.enabled',
  /** A sign-in to the dashboard: how (password, password+TOTP, recovery code, SSO) and which session. */
  signedIn: 'user.signed-in',
  /** Every session of the user ends (on every process: sessions carry the epoch they began in). */
  sessionsEnded: 'user.sessions-ended',
} as const;

export interface Invitation {
  lookup: string;
  hash: string;
  expiresAt: string;
}

export interface UserInvited {
  name: string;
  email: string;
  invitation: Invitation;
}

export interface UserProvisioned {
  name: string;
  email: string;
  sso: { issuer: string; subject: string };
}

/** A sealed credential (`stk-sb1.…`): opens only with the install's people key and the user id. */
export interface SealedCredential {
  sealed: string;
}

export interface RecoveryCodesSet {
  sealed: string;
  count: number;
}

export interface UserSignedIn {
  method: 'password' | 'password+totp' | 'password+recovery-code' | 'sso';
  /** The session's public id, shortened. */
  session: string;
  ip: string;
}

/** A user's name, e-mail, identity-provider subject and sign-in addresses belong to the user (`user:<id>`). */
export const UserPersonal: PersonalFields = {
  [UserEvents.invited]: { fields: ['name', 'email'], subjects: (e) => [userSubject(e.aggregate.id)] },
  [UserEvents.provisioned]: { fields: ['name', 'email', 'sso'], subjects: (e) => [userSubject(e.aggregate.id)] },
  [UserEvents.signedIn]: { fields: ['ip'], subjects: (e) => [userSubject(e.aggregate.id)] },
};
