// `stockade demo seed`: looks at the install first (nothing is written to an install that holds
// the demo already, or someone else's customers unless forced), draws the book from the seed, then
// tells it customer by customer through the API and the ingress.
import { StkError } from '../errors.ts';
import type { DemoAgent } from './agent.ts';
import { DEFAULT_CUSTOMERS, DEFAULT_SEED, planBook } from './book.ts';
import { identityWork, patchWork, scanWork } from './findings.ts';
import { allAlerts } from './forecast.ts';
import { survey } from './marking.ts';
import { DEMO_PASSWORD } from './names.ts';
import { addSiemChannel, waitForMessages } from './notify.ts';
import { type Onboarded, onboard, type SeedContext } from './onboard.ts';
import { OperatorApi } from './operator.ts';
import { command, dispatch } from './ops.ts';
import { Cast, ensurePerson } from './people.ts';
import { attacks, respond, triageBaseline } from './story.ts';
import type { DemoTarget } from './target.ts';

export interface SeedOptions {
  target: DemoTarget;
  /** @defaultValue DEFAULT_CUSTOMERS (4) */
  customers?: number;
  /** @defaultValue DEFAULT_SEED ('1') */
  seed?: string;
  /** Seed even though the install holds tenants the demo did not make. */
  force?: boolean;
  /** One line per step, for the terminal. */
  progress?: (line: string) => void;
  /** Longest wait for the install to show what was sent (alerts the detector raises). @defaultValue 120000 */
  timeoutMs?: number;
}

/** What the seed made, for the terminal and for whoever films it. */
export interface SeedSummary {
  seed: string;
  /** The customer with every product and the whole story (the one the videos film). */
  flagship: string;
  customers: Array<{ id: string; name: string; products: string[]; hosts: string[]; alerts: number }>;
  people: Array<{ name: string; email: string; signsIn: boolean }>;
  password: string;
}

/** A seeded install whose demo agents are still connected: heartbeat them, or close them. */
export interface Seeded {
  summary: SeedSummary;
  /** One heartbeat from every live demo agent (keeps them online while something films the install). */
  heartbeat(): Promise<void>;
  close(): void;
}

/** Checks the install, then fills it with the book of `seed`. */
export async function seedDemo(o: SeedOptions): Promise<Seeded> {
  const seed = o.seed ?? DEFAULT_SEED;
  const progress = o.progress ?? (() => {});
  const admin = new OperatorApi(o.target.api, o.target.adminKey, 'admin key');
  const found = await survey(admin);
  if (found.demo.length || found.unmarked.length) {
    const ids = [...found.demo.map((d) => d.id), ...found.unmarked];
    throw new StkError('STK_ERR_DEMO_PRESENT', `the install holds the demo already (${ids.join(', ')}); run \`stockade demo reset\` first`, { tenants: ids });
  }
  if (found.foreign.length && !o.force)
    throw new StkError(
      'STK_ERR_DEMO_FOREIGN_DATA',
      `the install holds customers the demo did not make (${found.foreign.join(', ')}); nothing was written. Give --force to add the demo beside them`,
      { tenants: found.foreign },
    );

  const now = new Date();
  const book = planBook({ seed, customers: o.customers ?? DEFAULT_CUSTOMERS, now });
  progress(`seed ${seed}: ${book.customers.length} customers, ${book.customers.reduce((n, c) => n + c.hosts.length, 0)} hosts, ${book.people.length} people`);
  const users = new Map<string, string>();
  for (const p of book.people) users.set(p.email, await ensurePerson(admin, p));
  progress(`people: ${book.people.filter((p) => p.accepts).length} accepted their invitation, ${book.people.filter((p) => !p.accepts).length} invited`);

  const ctx: SeedContext = {
    target: o.target,
    admin,
    cast: new Cast(admin, book.people, `stockade demo (seed ${seed})`),
    book,
    now,
    users,
    progress,
    timeoutMs: o.timeoutMs ?? 120_000,
  };
  const done: Onboarded[] = [];
  const agents = (): DemoAgent[] => done.flatMap((c) => [...c.agents.values()]);
  try {
    for (const plan of book.customers) {
      const c = await onboard(ctx, plan);
      done.push(c);
      await tell(ctx, c);
    }
    const summary: SeedSummary = {
      seed,
      flagship: done[0]!.tenant,
      customers: await Promise.all(
        done.map(async (c) => ({
          id: c.tenant,
          name: c.plan.name,
          products: c.plan.products,
          hosts: c.plan.hosts.map((h) => h.hostname),
          alerts: (await allAlerts(admin, c.tenant)).length,
        })),
      ),
      people: book.people.map((p) => ({ name: p.name, email: p.email, signsIn: p.accepts })),
      password: DEMO_PASSWORD,
    };
    const live = () => agents().filter((a) => !a.host.decommissioned);
    return {
      summary,
      heartbeat: async () => {
        for (const a of live()) await a.heartbeat();
      },
      close: () => {
        for (const a of agents()) a.close();
      },
    };
  } catch (err) {
    for (const a of agents()) a.close();
    throw err;
  }
}

/** One customer's story after onboarding, by its products. */
async function tell(ctx: SeedContext, c: Onboarded): Promise<void> {
  const p = new Set(c.plan.products);
  const t = `/tenants/${c.tenant}`;
  await triageBaseline(ctx, c);
  // After the baseline, before the attacks: the channel is told about the attacks only.
  const siem = await addSiemChannel(ctx, c);
  const alerts = await attacks(ctx, c);
  // Every alert open now was raised after the channel (triage resolved the earlier ones).
  const raised = alerts.filter((a) => a.status === 'open');
  if (p.has('edr')) await respond(ctx, c, alerts);
  if (p.has('identity')) await identityWork(ctx, c);
  if (p.has('patch')) await patchWork(ctx, c);
  if (p.has('attack-surface')) await scanWork(ctx, c);

  const analyst = await ctx.cast.as(c.plan.analyst);
  const live = [...c.agents.values()].filter((a) => !a.host.decommissioned);
  const [a0, a1, a2] = [live[0]!, live[1] ?? live[0]!, live[2] ?? live[0]!];
  await command(analyst, c.tenant, a1, c.state, ctx.timeoutMs, 'ping');
  await command(analyst, c.tenant, a2, c.state, ctx.timeoutMs, 'collect-inventory');
  const wrong = await dispatch(analyst, c.tenant, a0, 'collect-inventory');
  if (wrong.id) await analyst.call('POST', `${t}/commands/${wrong.id}/cancel`, { reason: 'Sent to the wrong host.' });

  await ctx.admin.call('POST', `${t}/tokens`, { role: 'auditor', label: `${c.plan.auditFirm} (external audit)`, expiresInDays: 90 });
  const old = [...c.agents.values()].find((a) => a.host.decommissioned);
  if (old)
    await ctx.admin.call('POST', `${t}/agents/${old.agentId}/revoke`, { reason: `Decommissioned: ${old.host.hostname} was replaced.`, blockMachine: true });
  for (const a of live) await a.heartbeat();
  if (siem) await waitForMessages(ctx, c, siem, raised);
  // The last command waits for its agent: it stays pending in the list (and expires in an hour).
  await dispatch(analyst, c.tenant, a0, 'ping');
  ctx.progress(`${c.plan.name}: done`);
}
