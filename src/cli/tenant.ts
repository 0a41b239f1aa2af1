import type { Command } from 'commander';
import { requireAdminApi } from './admin-api.ts';

/** `stockade tenant …`: the admin's tenant operations, through the running install's operator API. */
export function registerTenant(program: Command): void {
  const t = program.command('tenant').description('create and manage tenants (customers) with the admin key');
  const data = ['--data <dir>', 'data folder of the running install (STOCKADE_DATA)'] as const;
  t.command('create <id>')
    .description('create a tenant; prints its enrollment secret, shown this once')
    .requiredOption('--name <name>', 'display name')
    .option(...data)
    .action(async (id: string, o: { name: string; data?: string }) => {
      const r = await (await requireAdminApi(o.data)).call('POST', '/tenants', { id, name: o.name });
      console.log(JSON.stringify(r, null, 2));
    });
  t.command('list')
    .description('every tenant')
    .option(...data)
    .action(async (o: { data?: string }) => {
      const r = await (await requireAdminApi(o.data)).call('GET', '/tenants');
      for (const x of r.items) console.log(`${x.id}\t${x.name}\t${x.products.join(',') || '-'}${x.suspended ? '\tsuspended' : ''}`);
    });
  t.command('rotate-secret <id>')
    .description('new enrollment secret; the old one stops enrolling')
    .option(...data)
    .action(async (id: string, o: { data?: string }) => {
      console.log(JSON.stringify(await (await requireAdminApi(o.data)).call('POST', `/tenants/${encodeURIComponent(id)}/enroll-secret/rotate`), null, 2));
    });
  t.command('product <id> <product> <state>')
    .description('turn a product (edr, identity, attack-surface, patch) on or off')
    .option(...data)
    .action(async (id: string, product: string, state: string, o: { data?: string }) => {
      const r = await (await requireAdminApi(o.data)).call('PUT', `/tenants/${encodeURIComponent(id)}/products/${encodeURIComponent(product)}`, {
        enabled: state === 'on',
      });
      console.log(`${r.id}: products ${r.products.join(', ') || 'none'}`);
    });
  t.command('token <id>')
    .description('create an operator or auditor token; printed this once')
    .requiredOption('--role <role>', 'operator or auditor')
    .option(...data)
    .action(async (id: string, o: { role: string; data?: string }) => {
      console.log(JSON.stringify(await (await requireAdminApi(o.data)).call('POST', `/tenants/${encodeURIComponent(id)}/tokens`, { role: o.role }), null, 2));
    });
  t.command('suspend <id>')
    .requiredOption('--reason <text>', 'why')
    .option(...data)
    .action(async (id: string, o: { reason: string; data?: string }) => {
      await (await requireAdminApi(o.data)).call('POST', `/tenants/${encodeURIComponent(id)}/suspend`, { reason: o.reason });
      console.log(`${id}: suspended`);
    });
}
