// Who is told about the first customer's alerts: its admin adds a signed webhook to the customer's
// own SIEM, before the attacks, so the attacks' high and critical alerts become messages. The SIEM
// sits on the office network: an install that may not reach private addresses (the default,
// `STOCKADE_NOTIFY_ALLOW_PRIVATE`) refuses it for good, so the messages become dead letters that
// an operator can send again once the address is allowed.
import type { Onboarded, SeedContext } from './onboard.ts';
import { listAll, until } from './ops.ts';

/** Severities the SIEM webhook is told about. */
const SIEM_MIN_SEVERITY = 'high';
const RANK: Record<string, number> = { low: 0, medium: 1, high: 2, critical: 3 };

interface DeliveryView {
  id: string;
  channelId: string;
  status: 'pending' | 'delivered' | 'dead-letter';
  attemptCount: number;
}

/** The customer's SIEM webhook (when its plan has one); answers the channel id. */
export async function addSiemChannel(ctx: SeedContext, o: Onboarded): Promise<string | null> {
  const siem = o.plan.siem;
  if (!siem) return null;
  const customerAdmin = await ctx.cast.as(o.plan.admin);
  // No secret given: the install makes one and shows it once; the SIEM's side is not part of the demo.
  const made: { id: string } = await customerAdmin.call('POST', `/tenants/${o.tenant}/notifications/channels`, {
    kind: 'webhook',
    name: siem.name,
    settings: { url: siem.url },
    routing: { minSeverity: SIEM_MIN_SEVERITY },
  });
  ctx.progress(`${o.plan.name}: webhook channel ${siem.name} (${siem.url}) from severity ${SIEM_MIN_SEVERITY}`);
  return made.id;
}

/**
 * Waits until the channel holds a message for each alert of `raised` it is told about, each tried
 * at least once: the outbox works on its own, so the seed asks the API until it shows them.
 */
export async function waitForMessages(ctx: SeedContext, o: Onboarded, channelId: string, raised: ReadonlyArray<{ severity: string }>): Promise<void> {
  const expected = raised.filter((a) => (RANK[a.severity] ?? 0) >= RANK[SIEM_MIN_SEVERITY]!).length;
  const analyst = await ctx.cast.as(o.plan.analyst);
  const messages = await until(`${expected} message(s) to channel ${channelId}, each tried`, o.tenant, ctx.timeoutMs, async () => {
    const all = await listAll<DeliveryView>(analyst, `/tenants/${o.tenant}/notifications/deliveries`, `channelId=${channelId}`);
    return all.length >= expected && all.every((d) => d.attemptCount > 0) ? all : null;
  });
  const dead = messages.filter((d) => d.status === 'dead-letter').length;
  ctx.progress(`${o.plan.name}: ${messages.length} message(s) to the SIEM webhook, ${dead} of them dead letters`);
}
