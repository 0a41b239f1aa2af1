import type { Command } from 'commander';
import { resolve } from 'node:path';
import { backupStreams } from '../backup/backup.ts';
import { type Honoured, honourErasures } from '../backup/erasures.ts';
import { restoreStreams } from '../backup/restore.ts';
import { StkError } from '../errors.ts';
import { connectBus } from './bus.ts';

interface BusOpts {
  data?: string;
  natsUrl?: string;
}

/** `stockade backup` and `stockade restore`: copies of the streams and evidence buckets (docs/operations.md). */
export function registerBackup(program: Command): void {
  program
    .command('backup')
    .description(
      'copy the streams (EVENTS, LEDGER, TELEMETRY, SCANS, PACKAGES, REFUSALS) and the evidence buckets into a folder while Stockade runs (one JSON line per message, one file per object, and a manifest)',
    )
    .requiredOption('--out <dir>', 'a new or empty folder')
    .option('--since <dir>', 'a previous backup of the same streams: copy only what was stored after it (an increment)')
    .option('--data <dir>', 'data folder of a running install (STOCKADE_DATA)')
    .option('--nats-url <urls>', 'NATS servers (NATS_URL)')
    .action(async (opts: BusOpts & { out: string; since?: string }) => {
      const bus = await connectBus({ ...opts, name: 'stockade-backup' });
      try {
        const m = await backupStreams({
          streams: bus.streams,
          out: resolve(opts.out),
          ...(opts.since ? { since: resolve(opts.since) } : {}),
          onProgress: progress,
        });
        clearProgress();
        for (const [name, s] of Object.entries(m.streams))
          console.log(`${name}: ${s.messages} message(s) after sequence ${s.afterSeq}, up to ${s.lastSeq}, ${s.bytes} bytes, sha256 ${s.sha256}`);
        for (const [name, b] of Object.entries(m.buckets ?? {}))
          console.log(`${name}: ${b.objects.length} object(s), ${b.copied} copied (${b.bytes} bytes), listing digest ${b.digest}`);
        console.log(
          `${m.base ? `increment of the backup of ${m.base.createdAt}` : 'full backup'} written to ${resolve(opts.out)} (stockade ${m.version}, ${m.createdAt}); manifest sha256 ${m.manifestSha256}, recorded in the log of ${m.recorded} tenant(s)`,
        );
      } finally {
        await bus.close();
      }
    });

  program
    .command('restore')
    .description(
      'republish a backup into a NATS where its streams and evidence buckets do not exist yet, check it against the manifest, then honour again what the surviving key store says was erased or offboarded since',
    )
    .option(
      '--from <dir>',
      'a folder written by `stockade backup`; repeat it for a full backup followed by its increments, in order',
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .option('--replicas <n>', 'replicas of the created streams (3 on a cluster)', '1')
    .option('--honour-erasures-only', 'restore nothing: only honour again the erasures and offboardings of the key store (after STK_ERR_RESTORE_UNHONOURED)')
    // No --data: a running install has its streams already; the target is a NATS Stockade is not using.
    .option('--nats-url <urls>', 'NATS servers (NATS_URL)')
    .action(async (opts: { natsUrl?: string; from?: string[]; replicas: string; honourErasuresOnly?: boolean }) => {
      const replicas = Number(opts.replicas);
      if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) throw new StkError('STK_ERR_CONFIG', '--replicas must be an integer from 1 to 5');
      if (!opts.honourErasuresOnly && !opts.from?.length) throw new StkError('STK_ERR_CONFIG', 'restore needs --from (or --honour-erasures-only)');
      const natsUrl = opts.natsUrl ?? process.env.NATS_URL;
      if (!natsUrl) throw new StkError('STK_ERR_CONFIG', "restore needs --nats-url or NATS_URL: a NATS where the backup's streams do not exist yet");
      const bus = await connectBus({ natsUrl, name: 'stockade-restore' });
      try {
        if (opts.honourErasuresOnly) {
          printHonoured(await honourErasures(bus.streams));
          return;
        }
        const r = await restoreStreams({ streams: bus.streams, from: (opts.from ?? []).map((d) => resolve(d)), replicas, onProgress: progress });
        clearProgress();
        for (const [name, s] of Object.entries(r.streams))
          console.log(`${name}: ${s.messages} message(s) restored and read back, content digest matches the manifest`);
        for (const [tenant, e] of Object.entries(r.evidence))
          console.log(`${e.bucket}: ${e.objects} evidence object(s) of ${tenant} restored and read back, digests match the manifest`);
        printHonoured(r.honoured);
        console.log(
          `restore complete from ${r.parts.length} backup folder(s), the last taken ${r.parts.at(-1)!.createdAt}, recorded in the log of ${r.recorded} tenant(s); start Stockade, then run \`stockade ledger verify --all\``,
        );
      } finally {
        await bus.close();
      }
    });
}

function printHonoured(h: Honoured | null): void {
  if (!h) {
    console.log('no key store on this NATS: no erasure or offboarding to honour (every encrypted field reads as erased)');
    return;
  }
  for (const e of h.erasures)
    console.log(
      `erasure ${e.erasureId} of ${e.tenant} honoured: ${e.recorded ? 'recorded again in EVENTS' : 'nothing to record again'}, ${e.telemetryRemoved} restored telemetry item(s) of the machine removed again`,
    );
  for (const t of h.offboardings)
    console.log(
      `offboarding of ${t.tenant} honoured: ${t.recorded ? `recorded again in EVENTS (${t.tokensRevoked} token(s) revoked, tenant.deleted)` : 'nothing to record again'}; removed again: ${t.removed.telemetry} telemetry item(s), ${t.removed.packages} package list(s), ${t.removed.scans} scan item(s), ${t.removed.evidence} evidence object(s)`,
    );
}

function progress(p: { stream: string; messages: number; of: number }): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${p.stream}: ${p.messages} of ${p.of}`);
}

function clearProgress(): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
}
