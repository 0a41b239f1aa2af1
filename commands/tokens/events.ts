import { TENANT_SUBJECT, type PersonalFields } from '../../src/domain/personal.ts';
/** Operator tokens of a tenant: aggregate `token`, id = the token id, under the tenant's subjects. */
export const TOKEN = 'token';

export const TokenEvents = {
  /** Carries the lookup part and the hash of the token, never the token. */
  created: 'token.created',
  revoked: 'token.revoked',
} as const;

export const ROLES = ['operator', 'auditor'] as const;
export type TokenRole = (typeof ROLES)[number];

export interface TokenCreated {
  role: TokenRole;
  lookup: string;
  hash: string;
  label: string;
}

/** A token's label may name the person it was made for. */
export const TokenPersonal: PersonalFields = {
  [TokenEvents.created]: { fields: ['label'], subjects: () => [TENANT_SUBJECT] },
};
