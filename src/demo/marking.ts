// How the demo's data is told apart from real data, through what the API itself stores:
// - a tenant made by the demo has an id starting with `demo-` AND holds a (revoked) service token
//   labelled `stockade-demo …`, written right after the tenant was created;
// - a person made by the demo has an e-mail address under `.demo.example` (RFC 2606: no real
//   mailbox can have one).
// `stockade demo reset` removes exactly those; `seed` looks at everything else to decide whether
// the install is its to fill.
import { DEFAULT_TENANT } from '../../commands/tenants/events.ts';
import { DEMO_TENANT_PREFIX } from './book.ts';
import type { OperatorApi } from './operator.ts';

/** Label of the marker token (`stockade-demo seed=<seed>`). */
export const MARKER_LABEL = 'stockade-demo';
/** E-mail domains of the demo's people end with this. */
export const DEMO_EMAIL_SUFFIX = '.demo.example';

/** The marker token's label for a seed. */
export function markerLabel(seed: string): string {
  return `${MARKER_LABEL} seed=${seed}`.slice(0, 200);
}

/** True for an address the demo makes people with. */
export function isDemoEmail(email: string): boolean {
  const domain = email.toLowerCase().split('@')[1] ?? '';
  return domain.endsWith(DEMO_EMAIL_SUFFIX);
}

/** What an install holds, as the demo sees it. */
export interface Survey {
  /** Demo tenants: the prefix and the marker token. */
  demo: Array<{ id: string; name: string; seed: string | null }>;
  /** Tenants with the prefix but no marker (a seed interrupted between creating and marking, or a real tenant so named). */
  unmarked: string[];
  /** Every other tenant, and the default tenant when it holds anything. */
  foreign: string[];
}

interface TokenView {
  label: string;
}

async function markerOf(admin: OperatorApi, tenant: string): Promise<string | null | undefined> {
  let cursor: string | null = null;
  do {
    const page: { items: TokenView[]; nextCursor: string | null } = await admin.call(
      'GET',
      `/tenants/${tenant}/tokens?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    const marker = page.items.find((t) => t.label === MARKER_LABEL || t.label.startsWith(`${MARKER_LABEL} `));
    if (marker) return marker.label.startsWith(`${MARKER_LABEL} seed=`) ? marker.label.slice(`${MARKER_LABEL} seed=`.length) : null;
    cursor = page.nextCursor;
  } while (cursor);
  return undefined;
}

/** Whether the default tenant holds anything: agents (of any status), alerts or incidents. */
async function holdsData(admin: OperatorApi, tenant: string): Promise<boolean> {
  const o: { agents: Record<string, number>; alerts: Record<string, number>; incidents: Record<string, number> } = await admin.call(
    'GET',
    `/tenants/${tenant}/overview`,
  );
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  return sum(o.agents) + sum(o.alerts) + sum(o.incidents) > 0;
}

/** Looks at every tenant of the install (admin key): demo-made, prefixed but unmarked, or someone else's. */
export async function survey(admin: OperatorApi): Promise<Survey> {
  const tenants: { items: Array<{ id: string; name: string }> } = await admin.call('GET', '/tenants');
  const out: Survey = { demo: [], unmarked: [], foreign: [] };
  for (const t of tenants.items) {
    if (t.id.startsWith(DEMO_TENANT_PREFIX)) {
      const seed = await markerOf(admin, t.id);
      if (seed === undefined) out.unmarked.push(t.id);
      else out.demo.push({ id: t.id, name: t.name, seed });
    } else if (t.id !== DEFAULT_TENANT || (await holdsData(admin, t.id))) out.foreign.push(t.id);
  }
  return out;
}
