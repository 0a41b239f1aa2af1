import { TokenEvents as E, type TokenCreated, type TokenOwner, type TokenRole } from '../../commands/tokens/events.ts';
import type { Doc } from '../../src/store/model.ts';
import { by, defineProjection, patch } from '../define.ts';

export interface TokenDoc extends Doc {
  role: TokenRole | null;
  owner: TokenOwner;
  /** Null: never expires (tokens made before expiries existed). */
  expiresAt: string | null;
  label: string;
  lookup: string;
  /** SHA-256 of the token; the token itself exists only in the creation response. */
  hash: string;
  revoked: boolean;
  createdAt: string;
  createdBy: string;
  /** The owner's id, indexed so a user's tokens list without a scan. */
  ownerId: string | null;
}

/** Operator tokens, plus the admin index `token` (lookup → tenant and token id) used to authenticate. */
export const tokensProjection = defineProjection({
  model: 'tokens',
  main: 'tokens',
  collections: { tokens: { indexes: ['role', 'ownerId'] } },
  on: {
    [E.created]: {
      apply: (e, _docs, seq) => {
        const d = e.data as TokenCreated;
        const doc: TokenDoc = {
          id: e.aggregate.id,
          seq,
          role: d.role,
          owner: d.owner ?? { kind: 'service', id: d.label || 'service' },
          expiresAt: d.expiresAt ?? null,
          label: d.label,
          lookup: d.lookup,
          hash: d.hash,
          revoked: false,
          createdAt: e.at,
          createdBy: by(e),
          ownerId: d.owner?.id ?? null,
        };
        return [
          { collection: 'tokens', id: doc.id, doc },
          { global: 'token', key: d.lookup, value: { tenant: e.tenant, id: doc.id } },
        ];
      },
    },
    [E.revoked]: {
      apply: (e, docs) => {
        const t = docs.get<TokenDoc>('tokens', e.aggregate.id);
        return t ? [...patch<TokenDoc>('tokens', t, { revoked: true }), { global: 'token', key: t.lookup, value: null }] : [];
      },
    },
  },
});
