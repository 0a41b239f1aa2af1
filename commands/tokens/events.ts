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

/** Who a token belongs to: a person (it acts with their roles) or a customer's service account. */
export type TokenOwner = { kind: 'user'; id: string } | { kind: 'service'; id: string };

export interface TokenCreated {
  /** The role of a customer's service token; null for a user's token, which has its owner's roles. */
  role: TokenRole | null;
  lookup: string;
  hash: string;
  label: string;
  /** Absent on tokens made before owners existed: those are the customer's service tokens. */
  owner?: TokenOwner;
  /** Absent on tokens made before expiries existed: those never expire. */
  expiresAt?: string | null;
}

/** A token's label may name the person it was made for. */
export const TokenPersonal: PersonalFields = {
  [TokenEvents.created]: { fields: ['label'], subjects: () => [TENANT_SUBJECT] },
};
