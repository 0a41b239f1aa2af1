import { tenantDecider } from '../../commands/tenants/decider.ts';
import { execute } from '../domain/execute.ts';
import { isStkError } from '../errors.ts';
import type { EventLog } from '../log/mod.ts';
import { mintSecret } from './secrets.ts';

import { DEFAULT_TENANT } from '../../commands/tenants/events.ts';

/** The tenant of a single-customer install; it exists from the first start. */
export { DEFAULT_TENANT };

/**
 * Creates the `default` tenant once. Its enrollment secret is not shown here (it would end up in a
 * log): an admin rotates it to get one, or turns on open enrollment for single-customer installs.
 * Returns the position of the creation (0 when it already existed).
 */
export async function ensureDefaultTenant(log: EventLog): Promise<number> {
  try {
    const r = await execute(
      log,
      { tenant: DEFAULT_TENANT, id: DEFAULT_TENANT },
      tenantDecider,
      { kind: 'create', name: 'Default', secret: (({ lookup, hash }) => ({ lookup, hash }))(mintSecret('enroll')) },
      {
        actor: { kind: 'system', id: 'stockade' },
        known: 'new',
      },
    );
    return r.position;
  } catch (err) {
    if (!isStkError(err, 'STK_ERR_LOG_VERSION_CONFLICT') && !isStkError(err, 'STK_ERR_TENANT_EXISTS')) throw err;
    return 0;
  }
}
