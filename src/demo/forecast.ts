// Which alerts the install will raise for what the demo sends, worked out with the detector's own
// rules and evaluator (the built-in pack, gated by the customer's products, grouped by rule, host
// and the rule's groupBy values) — so the demo can wait until exactly those are there, and two
// installs seeded alike hold the same alerts when the seed returns.
import { evaluate } from '../detect/evaluate.ts';
import { loadPack } from '../detect/pack.ts';
import { applyTenantConfig } from '../detect/tenant.ts';
import type { Rule } from '../detect/types.ts';
import type { Product } from '../domain/products.ts';
import { StkError } from '../errors.ts';
import type { OperatorApi } from './operator.ts';

/** An alert the demo waits for: its title on one agent, how many of them. */
export interface ExpectedAlert {
  title: string;
  agentId: string;
  count: number;
}

let pack: Promise<Rule[]> | null = null;

/** The alerts one customer's telemetry and reports will raise. */
export class AlertForecast {
  readonly #rules: Rule[];
  /** Open alert groups: rule, agent and groupBy values. */
  readonly #open = new Map<string, string>();
  readonly #counts = new Map<string, ExpectedAlert>();

  private constructor(rules: Rule[]) {
    this.#rules = rules;
  }

  /** A forecast for a customer with `products` and the install's built-in rules, untuned. */
  static async of(products: readonly Product[]): Promise<AlertForecast> {
    pack ??= loadPack();
    return new AlertForecast(applyTenantConfig(await pack, { settings: new Map(), custom: [] }, products));
  }

  #add(title: string, agentId: string): void {
    const k = `${agentId}\0${title}`;
    const e = this.#counts.get(k) ?? { title, agentId, count: 0 };
    e.count++;
    this.#counts.set(k, e);
  }

  /** Items the agent sends (telemetry, or records the detector derives such as a host isolation). */
  items(agentId: string, items: readonly object[]): void {
    for (const item of items)
      for (const m of evaluate(this.#rules, item)) {
        const group = JSON.stringify([m.ruleId, agentId, m.groupValues]);
        if (this.#open.has(group)) continue;
        this.#open.set(group, m.title);
        this.#add(m.title, agentId);
      }
  }

  /** An alert the agent reports itself: always a new alert. */
  reported(agentId: string, title: string): void {
    this.#add(title, agentId);
  }

  /** Alerts of these titles were acknowledged or resolved: their next match raises a new one. */
  closed(titles: ReadonlySet<string>): void {
    for (const [group, title] of this.#open) if (titles.has(title)) this.#open.delete(group);
  }

  expected(): ExpectedAlert[] {
    return [...this.#counts.values()];
  }
}

/** An alert as the list answers it. */
export interface AlertView {
  id: string;
  title: string;
  severity: string;
  status: string;
  agentId: string;
  rule: string;
  hostname?: string;
}

/** Every alert of the tenant (all statuses), newest first. */
export async function allAlerts(api: OperatorApi, tenant: string): Promise<AlertView[]> {
  const out: AlertView[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: AlertView[]; nextCursor: string | null } = await api.call(
      'GET',
      `/tenants/${tenant}/alerts?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/**
 * Waits until the tenant holds at least the expected alerts; answers all its alerts. The detector
 * works on its own (it raises alerts from the stream, there is no answer to wait on), so this asks
 * the API again while something is missing, until `timeoutMs`.
 */
export async function waitForAlerts(api: OperatorApi, tenant: string, expected: readonly ExpectedAlert[], timeoutMs: number): Promise<AlertView[]> {
  const deadline = Date.now() + timeoutMs;
  for (let pause = 100; ; pause = Math.min(pause * 2, 1000)) {
    const alerts = await allAlerts(api, tenant);
    const missing = expected.filter((e) => alerts.filter((a) => a.agentId === e.agentId && a.title === e.title).length < e.count);
    if (missing.length === 0) return alerts;
    if (Date.now() > deadline)
      throw new StkError(
        'STK_ERR_DEMO_STALLED',
        `${tenant}: ${missing.length} expected alert(s) did not appear within ${timeoutMs} ms (is the detector role running?)`,
        {
          tenant,
          what: 'alerts',
          waitedMs: timeoutMs,
          missing: missing.map((m) => m.title),
        },
      );
    await new Promise((r) => setTimeout(r, pause));
  }
}
