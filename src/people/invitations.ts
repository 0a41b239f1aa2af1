import { randomBytes } from 'node:crypto';
import { hashSecret, secretMatches } from '../tenancy/secrets.ts';

/**
 * Invitation secrets: `stk_inv_<lookup>.<secret>` (12-character public lookup, 256 random bits),
 * shown once in the link an admin hands over; events keep only the lookup and SHA-256 of the whole.
 */
const PREFIX = 'stk_inv_';
const FORM = /^stk_inv_([A-Za-z0-9_-]{12})\.[A-Za-z0-9_-]{43}$/;

/** Default and longest life of an invitation. */
export const INVITATION_DEFAULT_HOURS = 72;
export const INVITATION_MAX_HOURS = 30 * 24;

export function mintInvitation(): { secret: string; lookup: string; hash: string } {
  const lookup = randomBytes(9).toString('base64url');
  const secret = `${PREFIX}${lookup}.${randomBytes(32).toString('base64url')}`;
  return { secret, lookup, hash: hashSecret(secret) };
}

/** The lookup part of a presented invitation, or null when it is not of the form. */
export function invitationLookup(presented: string): string | null {
  return FORM.exec(presented)?.[1] ?? null;
}

/** Constant-time check of a presented invitation against the stored hash (null: none found). */
export function invitationMatches(presented: string, hash: string | null): boolean {
  return secretMatches(presented, hash);
}

/** The dashboard address that takes an invitation (the secret stays in the fragment, never sent to a server log). */
export function invitationPath(secret: string): string {
  return `/ui/invite#${secret}`;
}
