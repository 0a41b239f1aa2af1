// `stockade demo reset`: takes the demo out again, through the real paths — its people disabled
// (people are never deleted: their history stays in the install's ledger) and its tenants
// offboarded (`DELETE /tenants/:tenant`: agents and tokens revoked, keys destroyed, read models
// removed, the id reserved). Only what carries the demo's marks is touched.
import { StkError } from '../errors.ts';
import { isDemoEmail, survey } from './marking.ts';
import { errorOf, OperatorApi } from './operator.ts';
import { listAll } from './ops.ts';
import type { DemoTarget } from './target.ts';

export interface ResetOptions {
  target: DemoTarget;
  /** Also offboard tenants with the demo's prefix that lack its marker (a seed stopped half-way). */
  force?: boolean;
  progress?: (line: string) => void;
}

export interface ResetSummary {
  offboarded: string[];
  /** Prefixed tenants left alone because they lack the marker (without `force`). */
  skipped: string[];
  disabled: string[];
}

/** Disables the demo's people and offboards the demo's tenants; everything else stays as it is. */
export async function resetDemo(o: ResetOptions): Promise<ResetSummary> {
  const progress = o.progress ?? (() => {});
  const admin = new OperatorApi(o.target.api, o.target.adminKey, 'admin key');
  const found = await survey(admin);
  const doomed = [...found.demo.map((d) => d.id), ...(o.force ? found.unmarked : [])];
  const skipped = o.force ? [] : found.unmarked;
  for (const id of skipped) progress(`${id}: has the demo's prefix but not its marker; left alone (--force removes it)`);

  const disabled: string[] = [];
  const people = await listAll<{ id: string; email: string; status: string }>(admin, '/users');
  for (const u of people.filter((p) => isDemoEmail(p.email) && p.status !== 'disabled')) {
    await admin.call('POST', `/users/${u.id}/disable`, { reason: 'stockade demo reset' });
    disabled.push(u.email);
  }
  if (disabled.length) progress(`people: ${disabled.length} disabled`);

  const offboarded: string[] = [];
  for (const id of doomed) {
    const r = await admin.send<{ approvalId?: string }>('DELETE', `/tenants/${id}`, { confirm: id });
    if (r.status === 202)
      throw new StkError(
        'STK_ERR_FORBIDDEN',
        `${id}: its policy gates delete-tenant behind four eyes; approve request ${r.body.approvalId} or lift the gate, then reset again`,
        {
          tenant: id,
        },
      );
    if (r.status >= 300) throw errorOf(r, `offboarding ${id}`);
    offboarded.push(id);
    progress(`${id}: offboarded`);
  }
  return { offboarded, skipped, disabled };
}
