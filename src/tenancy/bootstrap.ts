import { tenantDecider } from '../../commands/tenants/decider.ts';
import { execute } from '../domain/decider.ts';
import { isStkError } from '../errors.ts';
import type { Runtime } from '../runtime.ts';
import { mintSecret } from './secrets.ts';

import { DEFAULT_TENANT } from '../../commands/tenants/events.ts';

/** The tenant of a single-customer install; it exists from the first start. */
export { DEFAULT_TENANT };

/**
 * Creates the `default` tenant once. Its enrollment secret is not shown here (it would end up in a
 * log): an admin rotates it to get one, or turns on open enrollment for single-customer installs.
 */
export async function ensureDefaultTenant(rt: Runtime): Promise<void> {
  try {
    await execute(rt.log, DEFAULT_TENANT, DEFAULT_TENANT, tenantDecider, { kind: 'create', name: 'Default', secret: (({ lookup, hash }) => ({ lookup, hash }))(mintSecret('enroll')) }, {
      actor: { kind: 'system', id: 'stockade' },
      fresh: true,
    });
    rt.logger.info({ tenant: DEFAULT_TENANT }, 'created the default tenant; rotate its enrollment secret to enroll agents');
  } catch (err) {
    if (!isStkError(err, 'STK_ERR_LOG_VERSION_CONFLICT') && !isStkError(err, 'STK_ERR_TENANT_EXISTS')) throw err;
  }
}
