import type { Command } from 'commander';
import { requireAdminApi } from './admin-api.ts';

/** `stockade user …`: the admin's user operations, through the running install's operator API. */
export function registerUser(program: Command): void {
  const u = program.command('user').description('invite and manage the people of the install with the admin key');
  const data = ['--data <dir>', 'data folder of the running install (STOCKADE_DATA)'] as const;
  u.command('invite <email>')
    .description('invite a user; prints the invitation link (single use, expiring), shown this once')
    .requiredOption('--name <name>', 'display name')
    .option('--hours <n>', 'hours the invitation stays valid (default 72)')
    .option('--role <role...>', 'install-wide roles: msp-owner, msp-admin, auditor')
    .option(...data)
    .action(async (email: string, o: { name: string; hours?: string; role?: string[]; data?: string }) => {
      const api = await requireAdminApi(o.data);
      const r = await api.call('POST', '/users', { name: o.name, email, ...(o.hours ? { expiresInHours: Number(o.hours) } : {}) });
      if (o.role?.length) await api.call('PUT', `/users/${r.id}/roles`, { roles: o.role });
      console.log(
        JSON.stringify({ id: r.id, email: r.email, invitation: { link: `${api.url}${r.invitation.path}`, expiresAt: r.invitation.expiresAt } }, null, 2),
      );
    });
  u.command('list')
    .description('every user of the install')
    .option(...data)
    .action(async (o: { data?: string }) => {
      const r = await (await requireAdminApi(o.data)).call('GET', '/users');
      for (const x of r.items) console.log(`${x.id}\t${x.email}\t${x.name}\t${x.status}${x.mfa ? '\tmfa' : ''}${x.sso ? '\tsso' : ''}`);
    });
  u.command('grant <userId> <tenant> [roles...]')
    .description('set the roles of a user on a customer (no roles: take them all away)')
    .option(...data)
    .action(async (userId: string, tenant: string, roles: string[], o: { data?: string }) => {
      const r = await (await requireAdminApi(o.data)).call('PUT', `/tenants/${encodeURIComponent(tenant)}/access`, { userId, roles });
      console.log(
        r.approvalId ? `${tenant}: four-eyes request ${r.approvalId} waits for a second person` : `${userId} on ${tenant}: ${r.roles.join(', ') || 'no roles'}`,
      );
    });
  u.command('roles <userId> [roles...]')
    .description('set the install-wide roles of a user (msp-owner, msp-admin, auditor)')
    .option(...data)
    .action(async (userId: string, roles: string[], o: { data?: string }) => {
      const r = await (await requireAdminApi(o.data)).call('PUT', `/users/${encodeURIComponent(userId)}/roles`, { roles });
      console.log(`${userId}: ${r.roles.join(', ') || 'no install-wide roles'}`);
    });
  for (const [name, path, what] of [
    ['disable', 'disable', 'disable a user: every session and token of theirs stops at once'],
    ['enable', 'enable', 'enable a disabled user'],
    ['reset-mfa', 'reset-mfa', "remove a user's TOTP and recovery codes"],
    ['reinvite', 'invitation', 'a new invitation (the old one stops working)'],
  ] as const) {
    const c = u
      .command(`${name} <userId>`)
      .description(what)
      .option(...data);
    if (name === 'disable') c.requiredOption('--reason <text>', 'why');
    c.action(async (userId: string, o: { data?: string; reason?: string }) => {
      const api = await requireAdminApi(o.data);
      const r = await api.call(
        'POST',
        `/users/${encodeURIComponent(userId)}/${path}`,
        name === 'disable' ? { reason: o.reason } : name === 'reinvite' ? {} : undefined,
      );
      console.log(
        name === 'reinvite'
          ? JSON.stringify({ id: userId, invitation: { link: `${api.url}${r.invitation.path}`, expiresAt: r.invitation.expiresAt } }, null, 2)
          : `${userId}: ${r.status}`,
      );
    });
  }
}
