import { dataDirOf } from '../config/mod.ts';
import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { StkError } from '../errors.ts';
import { readCheckpointFile } from '../ledger/checkpoint.ts';
import { exportLedger } from '../ledger/export.ts';
import { Keyring } from '../ledger/keys.ts';
import { verifyLedger, type TenantReport } from '../ledger/verify.ts';
import { connectBus } from './bus.ts';

interface BusOpts {
  data?: string;
  natsUrl?: string;
}

/** `stockade ledger verify|export|rotate-key`: the auditor's tools, read-only on the bus. */
export function registerLedger(program: Command): void {
  const ledger = program.command('ledger').description('verify, export and manage the signed ledger');

  ledger
    .command('verify')
    .description('replay LEDGER against EVENTS; exit 0 with a summary, or 1 naming the first break and where it is')
    .option('--tenant <id>', 'tenant to verify (repeatable)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--all', 'verify every tenant')
    .option('--checkpoint <file>', 'a saved checkpoint the chains must still extend')
    .option('--window <seconds>', 'how long a record may stay unsealed', '60')
    .option('--json', 'print the full report as JSON')
    .option('--data <dir>', 'data folder of a running install (STOCKADE_DATA)')
    .option('--nats-url <urls>', 'NATS servers (NATS_URL)')
    .action(async (opts: BusOpts & { tenant?: string[]; all?: boolean; checkpoint?: string; window: string; json?: boolean }) => {
      if (!opts.all && !opts.tenant?.length) throw usage('ledger verify needs --tenant <id> or --all');
      const windowSeconds = Number(opts.window);
      if (!(windowSeconds >= 0)) throw usage('--window must be a number of seconds');
      const checkpoint = opts.checkpoint ? await readCheckpointFile(opts.checkpoint) : undefined;
      const bus = await connectBus({ ...opts, name: 'stockade-ledger-verify' });
      const tty = process.stderr.isTTY;
      try {
        const report = await verifyLedger({
          streams: bus.streams,
          tenants: opts.all ? 'all' : opts.tenant!,
          windowMs: windowSeconds * 1000,
          ...(checkpoint ? { checkpoint } : {}),
          ...(tty ? { onProgress: (p: { tenant: string; entries: number }) => process.stderr.write(`\r${p.tenant}: ${p.entries} entries verified`) } : {}),
        });
        if (tty) process.stderr.write('\r\x1b[K');
        if (opts.json) console.log(JSON.stringify(report, null, 2));
        else {
          if (report.checkpoint)
            console.log(
              `checkpoint ${report.checkpoint.at} (key ${report.checkpoint.keyId}): ${report.checkpoint.ok ? 'signature ok' : `INVALID: ${report.checkpoint.message}`}`,
            );
          for (const t of report.tenants) console.log(line(t));
          const broken = report.tenants.filter((t) => !t.ok).length;
          const keys = report.keys.map((k) => `${k.keyId}${k.trusted ? '' : ' (untrusted)'}`).join(', ') || 'none';
          console.log(`${report.ok ? 'OK' : 'BROKEN'}: ${report.tenants.length} tenant(s), ${broken} broken; keys: ${keys}`);
        }
        process.exitCode = report.ok ? 0 : 1;
      } finally {
        await bus.close();
      }
    });

  ledger
    .command('export')
    .description("write a tenant's events, blocks, public keys and latest checkpoint to a folder (docs/ledger-format.md)")
    .requiredOption('--tenant <id>', 'tenant to export')
    .requiredOption('--out <dir>', 'an empty or new folder')
    .option('--data <dir>', 'data folder of a running install (STOCKADE_DATA)')
    .option('--nats-url <urls>', 'NATS servers (NATS_URL)')
    .action(async (opts: BusOpts & { tenant: string; out: string }) => {
      const bus = await connectBus({ ...opts, name: 'stockade-ledger-export' });
      try {
        const s = await exportLedger({ streams: bus.streams, tenant: opts.tenant, out: resolve(opts.out) });
        console.log(
          `exported ${s.tenant} to ${s.out}: ${s.entries} entries (event records), ${s.blocks} blocks, height ${s.height}, head ${s.head}, ${s.keys} key(s), checkpoint ${s.checkpoint ?? 'none'}${s.unsealed ? `, ${s.unsealed} unsealed record(s) left out` : ''}`,
        );
      } finally {
        await bus.close();
      }
    });

  ledger
    .command('rotate-key')
    .description('make a new signing key, endorsed by the current one; the sealer records it in the ledger and signs with it from its next start')
    .option('--data <dir>', 'data folder whose ledger/ holds the keyring (STOCKADE_DATA)')
    .option('--key-dir <dir>', 'keyring folder (STOCKADE_LEDGER_KEY_DIR)')
    .action(async (opts: { data?: string; keyDir?: string }) => {
      const dir = opts.keyDir ?? process.env.STOCKADE_LEDGER_KEY_DIR ?? join(dataDirOf(opts.data), 'ledger');
      const keyring = await Keyring.open(dir);
      const previous = keyring.keyId;
      const r = await keyring.rotate();
      console.log(`new ledger key ${r.keyId} (endorsed by ${previous}); restart the sealer to record it and sign with it`);
    });
}

function line(t: TenantReport): string {
  const facts = `${t.entries} entries, ${t.blocks} blocks, height ${t.height}, head ${t.head}, keys ${t.keyIds.join(',') || 'none'}${t.pending ? `, ${t.pending} pending` : ''}${t.shredded ? `, ${t.shredded} entries shredded` : ''}`;
  if (t.ok) return `ok ${t.tenant}: ${facts}`;
  const b = t.break!;
  const where = [
    b.height !== undefined ? `height ${b.height}` : '',
    b.seq !== undefined ? `EVENTS seq ${b.seq}` : '',
    b.block !== undefined ? `block ${b.block}` : '',
    b.ledgerSeq !== undefined ? `LEDGER seq ${b.ledgerSeq}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return `BROKEN ${t.tenant}: ${b.kind} at ${where}: ${b.message}`;
}

function usage(message: string): StkError {
  return new StkError('STK_ERR_CONFIG', message);
}
