import { isRole, type Role, roleFitsScope } from '../../src/api/permissions.ts';
import { accept, type Decider, refuse } from '../../src/domain/decider.ts';
import type { NewEvent } from '../../src/domain/events.ts';
import { StkError } from '../../src/errors.ts';
import { ACCESS, AccessEvents as E, type AccessChanged, type GrantSource } from './events.ts';

export interface AccessState {
  /** Role → where it came from. */
  roles: Partial<Record<Role, GrantSource>>;
}

/**
 * `set`: the user's roles here become exactly `roles` (only those of `source` are taken away: an
 * SSO sign-in never removes a role an admin gave by hand). `scope` says whether this aggregate is
 * the install's or a customer's, because roles fit one or the other.
 */
export type AccessCommand = { kind: 'set'; roles: Role[]; source: GrantSource; scope: 'install' | 'tenant' };

export const accessDecider: Decider<AccessState, AccessCommand> = {
  aggregateType: ACCESS,
  initialState: () => ({ roles: {} }),
  evolve(s, e) {
    const d = e.data as AccessChanged;
    if (e.type === E.granted) return { roles: { ...s.roles, [d.role]: d.source } };
    if (e.type === E.revoked) {
      const roles = { ...s.roles };
      delete roles[d.role];
      return { roles };
    }
    return s;
  },
  decide(c, s) {
    for (const r of c.roles) {
      if (!isRole(r)) return refuse(new StkError('STK_ERR_VALIDATION', `unknown role ${JSON.stringify(r)}`, { field: 'roles' }));
      if (!roleFitsScope(r, c.scope))
        return refuse(
          new StkError('STK_ERR_VALIDATION', `${r} cannot be held ${c.scope === 'install' ? 'install-wide' : 'on one customer'}`, { field: 'roles' }),
        );
    }
    const events: NewEvent[] = [];
    for (const r of c.roles) if (!s.roles[r]) events.push({ type: E.granted, data: { role: r, source: c.source } satisfies AccessChanged });
    for (const [r, source] of Object.entries(s.roles) as Array<[Role, GrantSource]>) {
      if (!c.roles.includes(r) && source === c.source) events.push({ type: E.revoked, data: { role: r, source } satisfies AccessChanged });
    }
    return accept(...events);
  },
};

/** The roles held, sorted. */
export function rolesOf(s: AccessState): Role[] {
  return (Object.keys(s.roles) as Role[]).sort();
}
