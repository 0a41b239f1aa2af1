import type { Role } from '../../src/api/permissions.ts';

/**
 * Roles a user holds on one customer, or on the whole install: aggregate `access`, id = the user
 * id, under the subjects of the customer (or of the install tenant for install-wide roles). A
 * customer's own log therefore records everyone who was ever given access to it, and its ledger
 * seals that record.
 */
export const ACCESS = 'access';

export const AccessEvents = {
  granted: 'access.granted',
  revoked: 'access.revoked',
} as const;

/** `manual`: an admin's change; `sso`: the identity provider's groups at a sign-in. */
export type GrantSource = 'manual' | 'sso';

export interface AccessChanged {
  role: Role;
  source: GrantSource;
}
