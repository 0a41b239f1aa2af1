import type { Product } from '../domain/products.ts';
import type { LogRecord } from '../log/mod.ts';
import { lookupOf, secretMatches } from '../tenancy/secrets.ts';
import { acceptsEmptySecret, tenantDecider, type TenantState } from '../../commands/tenants/decider.ts';
import { DEFAULT_TENANT, TENANT, TenantEvents, type SecretSet } from '../../commands/tenants/events.ts';
import type { IngressFeed } from './feed.ts';
import type { TenantGate } from './identity.ts';

/**
 * The ingress's view of tenants, for a process that has no LevelDB: every tenant's state (through
 * the tenants domain's own `evolve`) and its current enrollment secret hash, in memory, fed by the
 * `tenant` aggregates of the log. Tenants are few and small, so the whole set fits.
 *
 * Each question first brings the view up to the log (`IngressFeed.current`: a check shared by
 * concurrent requests), so a suspension, a product switched off or a rotated secret holds from the
 * very next agent request, at every ingress. Only hashes are held: the secrets themselves exist
 * nowhere on the server.
 */
export class TenantView implements Pick<TenantGate, 'verifyEnrollSecret' | 'tenantState'> {
  readonly #feed: IngressFeed;
  readonly #states = new Map<string, TenantState>();
  /** Lookup part of each tenant's current secret → tenant and hash. A rotation replaces the entry. */
  readonly #secrets = new Map<string, { tenant: string; hash: string }>();
  readonly #lookupOfTenant = new Map<string, string>();

  readonly #onChange: (tenant: string) => void;

  /** `onChange` is told of every change of a tenant (the long-polls of its agents look again). */
  constructor(feed: IngressFeed, onChange: (tenant: string) => void = () => {}) {
    this.#feed = feed;
    this.#onChange = onChange;
    feed.add({ replayed: [TENANT], apply: (r) => this.#apply(r) });
  }

  async verifyEnrollSecret(secret: string): Promise<{ tenant: string; suspended: boolean } | null> {
    await this.#feed.current();
    const lookup = lookupOf('enroll', secret);
    const entry = lookup ? this.#secrets.get(lookup) : undefined;
    // secretMatches does the same hashing and comparison whether or not an entry was found.
    const ok = secretMatches(secret, entry?.hash ?? null);
    if (ok && entry) return { tenant: entry.tenant, suspended: this.#states.get(entry.tenant)?.suspended ?? true };
    // Single-install mode: an empty secret, for the default tenant only, and only once an admin
    // turned open enrollment on (the tenants domain decides; it is never on while suspended).
    const byDefault = this.#states.get(DEFAULT_TENANT);
    if (secret === '' && byDefault && acceptsEmptySecret(DEFAULT_TENANT, byDefault)) return { tenant: DEFAULT_TENANT, suspended: false };
    return null;
  }

  async tenantState(tenant: string): Promise<{ suspended: boolean; products: readonly Product[] } | null> {
    await this.#feed.current();
    return this.known(tenant);
  }

  /** The tenant as the view holds it now, without bringing the view up to the log first. */
  known(tenant: string): { suspended: boolean; products: readonly Product[] } | null {
    const s = this.#states.get(tenant);
    return s?.exists ? { suspended: s.suspended, products: s.products } : null;
  }

  #apply(r: LogRecord): void {
    let state = this.#states.get(r.tenant) ?? tenantDecider.initialState();
    for (const e of r.events) {
      state = tenantDecider.evolve(state, e);
      if (e.type === TenantEvents.secretSet) {
        const { lookup, hash } = e.data as SecretSet;
        const old = this.#lookupOfTenant.get(r.tenant);
        if (old) this.#secrets.delete(old);
        this.#secrets.set(lookup, { tenant: r.tenant, hash });
        this.#lookupOfTenant.set(r.tenant, lookup);
      } else if (e.type === TenantEvents.deleted) {
        // An offboarded tenant's secret finds nothing at all any more.
        const old = this.#lookupOfTenant.get(r.tenant);
        if (old) this.#secrets.delete(old);
        this.#lookupOfTenant.delete(r.tenant);
      }
    }
    this.#states.set(r.tenant, state);
    this.#onChange(r.tenant);
  }
}
