import { accept, type Decider, invalidTransition, refuse } from '../../src/domain/decider.ts';

/**
 * Uses of the admin key, the break-glass credential: aggregate `break-glass` in the install
 * tenant, one per episode (a process's uses within a short window), sealed like every event.
 */
export const BREAK_GLASS = 'break-glass';
export const BreakGlassEvents = { used: 'admin-key.used' } as const;

export interface AdminKeyUsed {
  /** The first request of the episode: method, route pattern, client address. */
  method: string;
  route: string;
  ip: string;
  /** Which process saw it (its instance id) and where (`api` or `dashboard`). */
  process: string;
  via: 'api' | 'dashboard';
}

export const breakGlassDecider: Decider<{ recorded: boolean }, { kind: 'record'; use: AdminKeyUsed }> = {
  aggregateType: BREAK_GLASS,
  initialState: () => ({ recorded: false }),
  evolve: (s, e) => (e.type === BreakGlassEvents.used ? { recorded: true } : s),
  decide: (c, s) => (s.recorded ? refuse(invalidTransition('episode', 'recorded', 'record it again')) : accept({ type: BreakGlassEvents.used, data: c.use })),
};
