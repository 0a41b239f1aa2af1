/** Why a long-poll ended. */
export type WakeReason = 'woken' | 'timeout' | 'closed';

/**
 * Agents holding a long-poll (`GET /agent/v1/commands?wait=`), by tenant and agent: the views wake
 * an agent when a command for it arrives or it is revoked, and every agent of a tenant when the
 * tenant changes (suspended, a product switched). A wait ends on a wake, its timeout, or its
 * request's socket closing — whichever comes first — and leaves nothing behind.
 */
export class Waiters {
  readonly #byTenant = new Map<string, Map<string, Set<(r: WakeReason) => void>>>();
  #size = 0;
  #closed = false;

  /** Agents waiting now. */
  get size(): number {
    return this.#size;
  }

  /** Waits until woken, `timeoutMs` passes, or `closed` fires (a socket closing). */
  wait(tenant: string, agentId: string, timeoutMs: number, onClose: (cb: () => void) => () => void): Promise<WakeReason> {
    if (this.#closed) return Promise.resolve('closed');
    return new Promise((resolve) => {
      let agents = this.#byTenant.get(tenant);
      if (!agents) {
        agents = new Map();
        this.#byTenant.set(tenant, agents);
      }
      let set = agents.get(agentId);
      if (!set) {
        set = new Set();
        agents.set(agentId, set);
      }
      const own = set;
      const ownAgents = agents;
      let unlisten: () => void = () => {};
      const done = (r: WakeReason): void => {
        if (!own.delete(done)) return;
        this.#size--;
        clearTimeout(timer);
        unlisten();
        if (own.size === 0) ownAgents.delete(agentId);
        if (ownAgents.size === 0) this.#byTenant.delete(tenant);
        resolve(r);
      };
      own.add(done);
      this.#size++;
      const timer = setTimeout(() => done('timeout'), timeoutMs);
      unlisten = onClose(() => done('closed'));
    });
  }

  /** Wakes the agent's waits. */
  wakeAgent(tenant: string, agentId: string): void {
    const set = this.#byTenant.get(tenant)?.get(agentId);
    if (set) for (const done of [...set]) done('woken');
  }

  /** Wakes every wait of the tenant's agents. */
  wakeTenant(tenant: string): void {
    const agents = this.#byTenant.get(tenant);
    if (agents) for (const set of [...agents.values()]) for (const done of [...set]) done('woken');
  }

  /** Ends every wait, and every wait from now on at once (the ingress is closing). */
  close(): void {
    this.#closed = true;
    for (const tenant of [...this.#byTenant.keys()]) this.wakeTenant(tenant);
  }
}
