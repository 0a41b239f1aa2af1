import { createHash } from 'node:crypto';
import { UserEvents as E, type UserInvited, type UserProvisioned } from '../../commands/users/events.ts';
import type { EventEnvelope } from '../../src/domain/events.ts';
import type { Doc, Write } from '../../src/store/model.ts';
import { by, defineProjection, patch } from '../define.ts';

/** A user as lists show it: never a credential, sealed or not. */
export interface UserDoc extends Doc {
  name: string;
  email: string;
  status: 'invited' | 'active' | 'disabled';
  sso: { issuer: string; subject: string } | null;
  hasPassword: boolean;
  mfa: boolean;
  recoveryCodesLeft: number;
  invitationExpiresAt: string | null;
  /** Public part of the open invitation, so its index entry goes when it is used or replaced. */
  invitationLookup: string | null;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  /** The last sign-in to the dashboard and how (absent on users not signed in since this was kept). */
  lastSignInAt?: string | null;
  lastSignInMethod?: string | null;
}

/** Key of the `user-email` index: the e-mail, lower-cased and hashed (index keys are token-safe). */
export function emailKey(email: string): string {
  return createHash('sha256').update(email.trim().toLowerCase(), 'utf8').digest('hex');
}

/** Key of the `user-sso` index: issuer and subject, hashed. */
export function ssoKey(issuer: string, subject: string): string {
  return createHash('sha256').update(`${issuer}\0${subject}`, 'utf8').digest('hex');
}

const touch = (e: EventEnvelope, docs: { get<T extends Doc>(c: string, id: string): T | undefined }, changes: Partial<UserDoc>): Write[] =>
  patch<UserDoc>('users', docs.get('users', e.aggregate.id), { ...changes, updatedAt: e.at });

/**
 * Users (install tenant only), with the admin indexes sign-in needs: `user-email` (e-mail hash →
 * user id), `user-sso` (issuer and subject hash → user id), `invitation` (lookup → user id; gone
 * once used or replaced, so a used link finds nothing).
 */
export const usersProjection = defineProjection({
  model: 'users',
  main: 'users',
  collections: { users: { indexes: ['status'] } },
  on: {
    [E.invited]: {
      apply: (e, _docs, seq) => {
        const d = e.data as UserInvited;
        const doc: UserDoc = {
          id: e.aggregate.id,
          seq,
          name: d.name,
          email: d.email,
          status: 'invited',
          sso: null,
          hasPassword: false,
          mfa: false,
          recoveryCodesLeft: 0,
          invitationExpiresAt: d.invitation.expiresAt,
          invitationLookup: d.invitation.lookup,
          createdAt: e.at,
          createdBy: by(e),
          updatedAt: e.at,
        };
        return [
          { collection: 'users', id: doc.id, doc },
          { global: 'user-email', key: emailKey(d.email), value: doc.id },
          { global: 'invitation', key: d.invitation.lookup, value: { userId: doc.id } },
        ];
      },
    },
    [E.provisioned]: {
      apply: (e, _docs, seq) => {
        const d = e.data as UserProvisioned;
        const doc: UserDoc = {
          id: e.aggregate.id,
          seq,
          name: d.name,
          email: d.email,
          status: 'active',
          sso: d.sso,
          hasPassword: false,
          mfa: false,
          recoveryCodesLeft: 0,
          invitationExpiresAt: null,
          invitationLookup: null,
          createdAt: e.at,
          createdBy: by(e),
          updatedAt: e.at,
        };
        return [
          { collection: 'users', id: doc.id, doc },
          { global: 'user-sso', key: ssoKey(d.sso.issuer, d.sso.subject), value: doc.id },
          ...(d.email ? [{ global: 'user-email', key: emailKey(d.email), value: doc.id }] : []),
        ];
      },
    },
    [E.invitationRenewed]: {
      apply: (e, docs) => {
        const u = docs.get<UserDoc>('users', e.aggregate.id);
        const inv = (e.data as { invitation: { lookup: string; expiresAt: string } }).invitation;
        return [
          ...touch(e, docs, { invitationExpiresAt: inv.expiresAt, invitationLookup: inv.lookup }),
          ...(u?.invitationLookup ? [{ global: 'invitation', key: u.invitationLookup, value: null }] : []),
          { global: 'invitation', key: inv.lookup, value: { userId: e.aggregate.id } },
        ];
      },
    },
    [E.activated]: {
      apply: (e, docs) => {
        const u = docs.get<UserDoc>('users', e.aggregate.id);
        return [
          ...touch(e, docs, { status: 'active', hasPassword: true, invitationExpiresAt: null, invitationLookup: null }),
          ...(u?.invitationLookup ? [{ global: 'invitation', key: u.invitationLookup, value: null }] : []),
        ];
      },
    },
    [E.passwordChanged]: { apply: (e, docs) => touch(e, docs, { hasPassword: true }) },
    [E.mfaEnrolled]: { apply: (e, docs) => touch(e, docs, { mfa: true }) },
    [E.recoveryCodesSet]: { apply: (e, docs) => touch(e, docs, { recoveryCodesLeft: (e.data as { count: number }).count }) },
    [E.recoveryCodeUsed]: {
      apply: (e, docs) => touch(e, docs, { recoveryCodesLeft: Math.max(0, (docs.get<UserDoc>('users', e.aggregate.id)?.recoveryCodesLeft ?? 1) - 1) }),
    },
    [E.mfaReset]: { apply: (e, docs) => touch(e, docs, { mfa: false, recoveryCodesLeft: 0 }) },
    [E.disabled]: { apply: (e, docs) => touch(e, docs, { status: 'disabled' }) },
    // Not `touch`: a sign-in is no change to the user's profile.
    [E.signedIn]: {
      apply: (e, docs) =>
        patch<UserDoc>('users', docs.get('users', e.aggregate.id), { lastSignInAt: e.at, lastSignInMethod: (e.data as { method: string }).method }),
    },
    [E.enabled]: {
      apply: (e, docs) => {
        const u = docs.get<UserDoc>('users', e.aggregate.id);
        return touch(e, docs, { status: u?.hasPassword || u?.sso ? 'active' : 'invited' });
      },
    },
  },
});
