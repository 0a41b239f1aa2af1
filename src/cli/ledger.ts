import { dataDirOf } from '../config/mod.ts';
import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { StkError } from '../errors.ts';
import { readCheckpointFile } from '../ledger/checkpoint.ts';
import { exportLedger } from '../ledger/export.ts';
import { Keyring } from '../ledger/keys.ts';
import { readPublicKey } from '../ledger/proofcheck.ts';
import { verifyLedger, type TenantReport } from '../ledger/verify.ts';
import { connectBus } from './bus.ts';
import { registerLedgerProofs } from './ledger-proofs.ts';

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
    .option('--tenant <id>', 'tenant to verify (repeatable)', collect)
    .option('--all', 'verify every tenant')
    .option('--checkpoint <file>', "a tenant's checkpoint note saved earlier: its chain must still extend it (repeatable)", collect)
    .option('--log-key <pem>', 'a ledger public key you hold (SPKI PEM), to check saved checkpoints if LEDGER lost its key records (repeatable)', collect)
    .option('--origin <origin>', 'the install origin every checkpoint must name')
    .option('--witness <vkey>', "a witness's verifier key: the newest checkpoint of each tenant must carry cosignatures (repeatable)", collect)
    .option('--witness-quorum <n>', 'how many of the --witness keys must have cosigned (default: 1)')
    .option('--window <seconds>', 'how long a record may stay unsealed', '60')
    .option('--json', 'print the full report as JSON')
    .option('--data <dir>', 'data folder of a running install (STOCKADE_DATA)')
    .option('--nats-url <urls>', 'NATS servers (NATS_URL)')
    .action(async (opts: BusOpts & VerifyFlags) => {
      if (!opts.all && !opts.tenant?.length) throw usage('ledger verify needs --tenant <id> or --all');
      const windowSeconds = Number(opts.window);
      if (!(windowSeconds >= 0)) throw usage('--window must be a number of seconds');
      const checkpoints = await Promise.all((opts.checkpoint ?? []).map((f) => readCheckpointFile(f)));
      const logKeys = await Promise.all((opts.logKey ?? []).map((f) => readPublicKey(f)));
      const witnesses = opts.witness?.length ? { keys: opts.witness, quorum: quorumOf(opts.witnessQuorum, opts.witness.length) } : undefined;
      const bus = await connectBus({ ...opts, name: 'stockade-ledger-verify', user: 'auditor' });
      const tty = process.stderr.isTTY;
      try {
        const report = await verifyLedger({
          streams: bus.streams,
          tenants: opts.all ? 'all' : opts.tenant!,
          windowMs: windowSeconds * 1000,
          checkpoints,
          logKeys,
          ...(opts.origin ? { origin: opts.origin } : {}),
          ...(witnesses ? { witnesses } : {}),
          ...(tty ? { onProgress: (p: { tenant: string; entries: number }) => process.stderr.write(`\r${p.tenant}: ${p.entries} entries verified`) } : {}),
        });
        if (tty) process.stderr.write('\r\x1b[K');
        if (opts.json) console.log(JSON.stringify(report, null, 2));
        else {
          if (!report.ledger) console.log('LEDGER: the stream does not exist (never created, or deleted)');
          for (const t of report.tenants) console.log(line(t));
          for (const c of report.checkpoints)
            console.log(
              `${c.ok ? 'ok' : 'BROKEN'} checkpoint ${c.origin} size ${c.size}${c.signedBy ? ` (key ${c.signedBy})` : ''}${c.ok ? ': the chain extends it' : `: ${c.message}`}`,
            );
          const broken = report.tenants.filter((t) => !t.ok).length;
          const keys =
            report.keys.map((k) => `${k.keyId}${k.trusted ? (k.retiredAt ? ` (retired ${k.retiredAt})` : '') : ' (untrusted)'}`).join(', ') || 'none';
          console.log(`${report.ok ? 'OK' : 'BROKEN'}: ${report.tenants.length} tenant(s), ${broken} broken; keys: ${keys}`);
        }
        process.exitCode = report.ok ? 0 : 1;
      } finally {
        await bus.close();
      }
    });

  ledger
    .command('export')
    .description(
      "write a tenant's events, blocks, chain, public keys and newest checkpoint to a folder (docs/ledger-format.md); exit 1 when the chain is broken",
    )
    .requiredOption('--tenant <id>', 'tenant to export')
    .requiredOption('--out <dir>', 'an empty or new folder')
    .option('--data <dir>', 'data folder of a running install (STOCKADE_DATA)')
    .option('--nats-url <urls>', 'NATS servers (NATS_URL)')
    .action(async (opts: BusOpts & { tenant: string; out: string }) => {
      const bus = await connectBus({ ...opts, name: 'stockade-ledger-export', user: 'auditor' });
      const out = resolve(opts.out);
      try {
        const s = await exportLedger({ streams: bus.streams, tenant: opts.tenant, out });
        console.log(
          `exported ${s.tenant} to ${out}: ${s.entries} entries (event records), ${s.blocks} blocks, height ${s.height}, head ${s.head}, root ${s.root}, ${s.keys} key(s), checkpoint ${s.checkpoint ? `of size ${s.checkpoint.size}` : 'none'}${s.unsealed ? `, ${s.unsealed} unsealed record(s) left out` : ''}`,
        );
      } finally {
        await bus.close();
      }
    });

  registerLedgerProofs(ledger);

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
  const cp = t.checkpoint
    ? `checkpoint size ${t.checkpoint.size}${t.checkpoint.cosignatures ? ` (${t.checkpoint.cosignatures} cosignature(s))` : ''}`
    : 'no checkpoint yet';
  const facts = `${t.entries} entries, ${t.blocks} blocks, height ${t.height}, head ${t.head}, root ${t.root}, ${cp}, keys ${t.keyIds.join(',') || 'none'}${t.pending ? `, ${t.pending} pending` : ''}${t.shredded ? `, ${t.shredded} entries shredded` : ''}`;
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

interface VerifyFlags {
  tenant?: string[];
  all?: boolean;
  checkpoint?: string[];
  logKey?: string[];
  origin?: string;
  witness?: string[];
  witnessQuorum?: string;
  window: string;
  json?: boolean;
}

function collect(v: string, acc: string[] = []): string[] {
  return [...acc, v];
}

function quorumOf(flag: string | undefined, witnesses: number): number {
  const n = flag === undefined ? 1 : Number(flag);
  if (!Number.isInteger(n) || n < 1 || n > witnesses) throw usage(`--witness-quorum must be a whole number from 1 to ${witnesses} (the --witness keys given)`);
  return n;
}

function usage(message: string): StkError {
  return new StkError('STK_ERR_CONFIG', message);
}
