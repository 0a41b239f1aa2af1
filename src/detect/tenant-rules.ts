/**
 * The rules the detector runs for each tenant: the built-in pack, the tenant's settings and custom
 * rules (the `detection` aggregate), gated by its products (the `tenant` aggregate). Read from the
 * event log on first use and kept until an event of either aggregate says they changed.
 */
import { configOf, type DetectionState, detectionDecider } from '../../commands/detection/decider.ts';
import { DETECTION, DETECTION_SETTINGS_ID } from '../../commands/detection/events.ts';
import { TENANT, TenantEvents } from '../../commands/tenants/events.ts';
import { fold } from '../domain/decider.ts';
import type { Product } from '../domain/products.ts';
import type { EventLog, LogRecord } from '../log/mod.ts';
import type { Logger } from '../logger.ts';
import { compileRuleset, type Ruleset } from './evaluate.ts';
import { loadRule } from './load.ts';
import { applyTenantConfig, type TenantDetectionConfig, type ValidTenantConfig, validateTenantConfig } from './tenant.ts';
import type { Rule } from './types.ts';

/** A tenant's compiled rule set and the products it was gated by. */
export interface TenantRuleset {
  ruleset: Ruleset;
  products: readonly Product[];
}

/** Products of a tenant from its events (the tenants projection's rule, without LevelDB). */
export function productsOf(events: readonly { type: string; data: unknown }[]): Product[] {
  const on = new Set<Product>();
  for (const e of events) {
    const p = (e.data as { product?: Product }).product;
    if (e.type === TenantEvents.productEnabled && p) on.add(p);
    if (e.type === TenantEvents.productDisabled && p) on.delete(p);
  }
  return [...on].sort();
}

/**
 * The part of a stored configuration that is valid. The API refuses an invalid change, but two
 * changes racing (a custom rule removed while a setting for it is saved) could still leave one
 * behind; the detector then runs everything else rather than nothing.
 */
export function usableConfig(pack: readonly Rule[], config: TenantDetectionConfig, logger?: Logger): ValidTenantConfig {
  const whole = validateTenantConfig(pack, config);
  if (whole.ok) return whole.config;
  logger?.warn({ problems: whole.problems.length }, 'detection settings hold problems; running the valid part');
  const custom = (config.custom ?? []).filter((c) => loadRule(c.yaml, c.name).ok);
  const base = validateTenantConfig(pack, { custom });
  const customOk = base.ok ? custom : [];
  const rules: NonNullable<TenantDetectionConfig['rules']> = {};
  for (const [id, s] of Object.entries(config.rules ?? {})) {
    if (validateTenantConfig(pack, { custom: customOk, rules: { [id]: s } }).ok) rules[id] = s;
  }
  const r = validateTenantConfig(pack, { custom: customOk, rules });
  return r.ok ? r.config : { settings: new Map(), custom: [] };
}

/** Per-tenant rule sets for one detector worker. */
export class TenantRules {
  readonly #cache = new Map<string, TenantRuleset>();
  readonly #loading = new Map<string, Promise<TenantRuleset>>();
  /** Bumped by each invalidation, so a load that raced one is not cached. */
  readonly #gen = new Map<string, number>();

  constructor(
    private readonly log: EventLog,
    private readonly pack: readonly Rule[],
    private readonly logger?: Logger,
  ) {}

  /** The tenant's rule set if it is loaded; undefined otherwise (then `get`). */
  peek(tenant: string): TenantRuleset | undefined {
    return this.#cache.get(tenant);
  }

  /** The tenant's rule set, read from the log when not cached. */
  get(tenant: string): Promise<TenantRuleset> {
    const hit = this.#cache.get(tenant);
    if (hit) return Promise.resolve(hit);
    let p = this.#loading.get(tenant);
    if (!p) {
      const gen = this.#gen.get(tenant) ?? 0;
      p = this.#load(tenant).then(
        (r) => {
          if ((this.#gen.get(tenant) ?? 0) === gen) this.#cache.set(tenant, r);
          this.#loading.delete(tenant);
          return r;
        },
        (err: unknown) => {
          this.#loading.delete(tenant);
          throw err;
        },
      );
      this.#loading.set(tenant, p);
    }
    return p;
  }

  /** Drops what is cached when the record changes the tenant's products or detection settings. */
  observe(r: LogRecord): void {
    if (
      r.aggregate.type === DETECTION ||
      (r.aggregate.type === TENANT && r.events.some((e) => e.type === TenantEvents.productEnabled || e.type === TenantEvents.productDisabled))
    ) {
      this.invalidate(r.tenant);
    }
  }

  invalidate(tenant: string): void {
    this.#cache.delete(tenant);
    this.#loading.delete(tenant);
    this.#gen.set(tenant, (this.#gen.get(tenant) ?? 0) + 1);
  }

  async #load(tenant: string): Promise<TenantRuleset> {
    const [t, d] = await Promise.all([
      this.log.readAggregate({ tenant, aggregateType: TENANT, aggregateId: tenant }),
      this.log.readAggregate({ tenant, aggregateType: DETECTION, aggregateId: DETECTION_SETTINGS_ID }),
    ]);
    const products = productsOf(t.events);
    const state: DetectionState = fold(detectionDecider, d.events);
    const config = usableConfig(this.pack, configOf(state), this.logger?.child({ tenant }));
    return { ruleset: compileRuleset(applyTenantConfig(this.pack, config, products)), products };
  }
}
