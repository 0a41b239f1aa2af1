import type { Command } from 'commander';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { dataDirOf } from '../config/mod.ts';
import { dataPaths, readRunInfo } from '../datadir.ts';
import { StkError } from '../errors.ts';
import { EvidenceStore } from '../evidence/store.ts';
import { EXPORT_FILES, evidencePart, exportTenant, type TenantExportManifest, verifyExport, writeSums } from '../lifecycle/export.ts';
import { EventLog } from '../log/mod.ts';
import { openPrivacy } from '../privacy/mod.ts';
import { requireAdminApi } from './admin-api.ts';
import { connectBus } from './bus.ts';

const DATA = ['--data <dir>', 'data folder of the running install (STOCKADE_DATA)'] as const;
const NATS = ['--nats-url <urls>', 'NATS servers (NATS_URL)'] as const;

/** The read models of a tenant as JSON lines, streamed from the running install's API with the admin key. */
async function* readModelLines(data: string | undefined, tenant: string): AsyncGenerator<string> {
  const dataDir = dataDirOf(data);
  const info = await readRunInfo(dataDir);
  if (!info?.apiUrl) throw new StkError('STK_ERR_CONFIG', `no running install with an operator API in ${dataDir}`);
  const key = process.env.STOCKADE_ADMIN_KEY || (await readFile(dataPaths(dataDir).adminKey, 'utf8')).trim();
  const res = await fetch(`${info.apiUrl}/api/v1/tenants/${encodeURIComponent(tenant)}/export/read-models`, { headers: { authorization: `Bearer ${key}` } });
  if (!res.ok || !res.body) throw new StkError('STK_ERR_UNAVAILABLE', `the API answered ${res.status} for the read models of ${tenant}`);
  let rest = '';
  const dec = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    rest += dec.decode(chunk, { stream: true });
    const lines = rest.split('\n');
    rest = lines.pop() ?? '';
    yield* lines;
  }
  if (rest) yield rest;
}

async function runExport(o: { data?: string; natsUrl?: string }, tenant: string, out: string): Promise<TenantExportManifest> {
  const bus = await connectBus({ ...o, name: 'stockade-tenant-export' });
  const privacy = await openPrivacy(bus.streams);
  try {
    const log = await EventLog.open(bus.streams, { skipEnsureStream: true, fields: privacy.cipher });
    return await exportTenant({
      log,
      keys: privacy.keys,
      tenant,
      out,
      readModels: readModelLines(o.data, tenant),
      parts: [evidencePart(new EvidenceStore(bus.streams, { keys: privacy.keys }))],
    });
  } finally {
    privacy.close();
    await bus.close();
  }
}

/**
 * `stockade erase` and `stockade tenant export|delete|offboard|retention|verify-export`: leaving
 * and forgetting (docs/operator-manual.md), through the running install's API with the admin key;
 * the export also reads the bus for the events and the ledger.
 */
export function registerLifecycle(program: Command): void {
  program
    .command('erase')
    .description('erase a data subject of a tenant: its keys are destroyed, its fields unreadable forever, the ledger still verifies')
    .requiredOption('--tenant <id>', 'the tenant')
    .requiredOption('--subject <subject>', 'agent:<agentId>, account:<name> or person:<name or e-mail>')
    .option('--reference <text>', 'your reference for the request (a ticket), stored sealed')
    .option(...DATA)
    .action(async (o: { tenant: string; subject: string; reference?: string; data?: string }) => {
      const r = await (await requireAdminApi(o.data)).call('POST', `/tenants/${encodeURIComponent(o.tenant)}/erasures`, {
        subject: o.subject,
        ...(o.reference ? { reference: o.reference } : {}),
      });
      console.log(`erased: ${r.keysDestroyed} key(s) destroyed (erasure ${r.erasureId})`);
    });

  const t = program.commands.find((c) => c.name() === 'tenant') ?? program.command('tenant');
  t.command('export <id>')
    .description("write the tenant's events, ledger, keys, read models and telemetry to a folder, with a manifest and SHA256SUMS")
    .requiredOption('--out <dir>', 'an empty or new folder')
    .option(...DATA)
    .option(...NATS)
    .action(async (id: string, o: { out: string; data?: string; natsUrl?: string }) => {
      const m = await runExport(o, id, resolve(o.out));
      console.log(
        `exported ${id} to ${resolve(o.out)}: ${m.events} events, ${m.ledger.entries} sealed entries, ${m.readModelDocuments} documents, ${m.dataKeys} keys`,
      );
    });
  t.command('verify-export <dir>')
    .description('check an export as the customer would: SHA256SUMS, and every readable event against its sealed, signed record')
    .action(async (dir: string) => {
      const r = await verifyExport(resolve(dir));
      for (const p of r.problems) console.log(`PROBLEM ${p}`);
      console.log(`${r.problems.length ? 'BROKEN' : 'OK'}: ${r.files} files, ${r.events} events, ${r.opened} sealed events opened and matched`);
      process.exitCode = r.problems.length ? 1 : 0;
    });
  t.command('delete <id>')
    .description('offboard: revoke every agent and token, destroy every key, remove the read models; the id is reserved forever')
    .requiredOption('--confirm <id>', 'the tenant id again')
    .option(...DATA)
    .action(async (id: string, o: { confirm: string; data?: string }) => {
      const r = await (await requireAdminApi(o.data)).call('DELETE', `/tenants/${encodeURIComponent(id)}`, { confirm: o.confirm });
      console.log(JSON.stringify(r, null, 2));
    });
  t.command('offboard <id>')
    .description('export (and check the export), then delete; the final signed head of the chain is added to the export')
    .requiredOption('--out <dir>', 'an empty or new folder')
    .requiredOption('--confirm <id>', 'the tenant id again')
    .option(...DATA)
    .option(...NATS)
    .action(async (id: string, o: { out: string; confirm: string; data?: string; natsUrl?: string }) => {
      if (o.confirm !== id) throw new StkError('STK_ERR_OFFBOARD_CONFIRM', 'confirm must be the tenant id', { field: 'confirm' });
      const out = resolve(o.out);
      const manifest = await runExport(o, id, out);
      const check = await verifyExport(out);
      if (check.problems.length) throw new StkError('STK_ERR_CONFIG', `the export does not check out, nothing deleted: ${check.problems[0]}`);
      const r = await (await requireAdminApi(o.data)).call('DELETE', `/tenants/${encodeURIComponent(id)}`, { confirm: id });
      await writeFile(join(out, EXPORT_FILES.finalCheckpoint), `${JSON.stringify(r.finalCheckpoint, null, 2)}\n`);
      await writeSums(out, manifest);
      console.log(
        `offboarded ${id}: export in ${out}; ${r.agentsRevoked} agent(s) and ${r.tokensRevoked} token(s) revoked, ${r.keysDestroyed} key(s) destroyed`,
      );
    });
  t.command('retention <id> [kind] [days]')
    .description('show retention, or set one kind (events, evidence, scan-items, telemetry) to a number of days or `default`')
    .option(...DATA)
    .action(async (id: string, kind: string | undefined, days: string | undefined, o: { data?: string }) => {
      const api = await requireAdminApi(o.data);
      const path = `/tenants/${encodeURIComponent(id)}/retention`;
      const r = kind && days ? await api.call('PUT', path, { kind, days: days === 'default' ? null : Number(days) }) : await api.call('GET', path);
      for (const k of r.kinds) console.log(`${k.kind}\t${k.days === null ? 'forever' : `${k.days} days`}\t(${k.source})`);
    });
}
