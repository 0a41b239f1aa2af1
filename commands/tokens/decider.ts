import { accept, invalidTransition, notFound, refuse, type Decider } from '../../src/domain/decider.ts';
import { TOKEN, TokenEvents as E, type TokenCreated } from './events.ts';

export interface TokenState {
  exists: boolean;
  revoked: boolean;
}

export type TokenCommand = { kind: 'create'; token: TokenCreated } | { kind: 'revoke' };

export const tokenDecider: Decider<TokenState, TokenCommand> = {
  aggregateType: TOKEN,
  initialState: () => ({ exists: false, revoked: false }),
  evolve(s, e) {
    if (e.type === E.created) return { exists: true, revoked: false };
    if (e.type === E.revoked) return { ...s, revoked: true };
    return s;
  },
  decide(c, s) {
    if (c.kind === 'create') return s.exists ? refuse(invalidTransition('token', 'created', 'create it again')) : accept({ type: E.created, data: c.token });
    if (!s.exists) return refuse(notFound('token', ''));
    return s.revoked ? accept() : accept({ type: E.revoked, data: {} });
  },
};
