import type { Command } from 'commander';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { StkError } from '../errors.ts';
import { defaultInstallOrigin, tenantOrigin, tenantVkey } from '../ledger/checkpoint.ts';
import { readKeyRecords } from '../ledger/keyrecords.ts';
import { keyIdOf, rawPublicKey } from '../ledger/keys.ts';
import { checkConsistency, checkInclusion, readPublicKey, writeProofFolder, type ProofTrust } from '../ledger/proofcheck.ts';
import { LedgerTrees, type ConsistencyAnswer, type InclusionProof } from '../ledger/trees.ts';
import { SIG_TYPE_ED25519, encodeBase64 } from '../transparency/mod.ts';
import { connectBus } from './bus.ts';

interface BusOpts {
  data?: string;
  natsUrl?: string;
}

/** `stockade ledger prove|consistency|check-proof|log-key`: proofs for one event, and the keys to check them with. */
export function registerLedgerProofs(ledger: Command): void {
  ledger
    .command('prove')
    .description("inclusion proof of one event in its tenant's Merkle tree, with the signed tree head (JSON, or a folder for the documented script)")
    .requiredOption('--tenant <id>', "the event's tenant")
    .requiredOption('--event <id>', 'the event id')
    .option('--size <n>', 'the tree size to prove against (default: the newest checkpoint covering the event, else the newest block)')
    .option('--out <dir>', 'write the proof as files (docs/ledger-format.md, "Checking a proof with standard tools")')
    .option('--data <dir>', 'data folder of a running install (STOCKADE_DATA)')
    .option('--nats-url <urls>', 'NATS servers (NATS_URL)')
    .action(async (opts: BusOpts & { tenant: string; event: string; size?: string; out?: string }) => {
      const size = opts.size === undefined ? undefined : sizeOf(opts.size, '--size');
      const bus = await connectBus({ ...opts, name: 'stockade-ledger-prove', user: 'auditor' });
      const trees = new LedgerTrees({ streams: bus.streams, dir: null });
      try {
        const r = await trees.inclusion(opts.tenant, opts.event, size === undefined ? {} : { size });
        if (r.kind !== 'proof')
          throw r.kind === 'unsealed'
            ? new StkError('STK_ERR_LEDGER_UNSEALED', `event ${opts.event} of ${opts.tenant} is not sealed yet`)
            : new StkError('STK_ERR_NOT_FOUND', `${opts.tenant} has no event ${opts.event}`);
        const p = r.proof;
        if (!opts.out) {
          console.log(JSON.stringify(p, null, 2));
          return;
        }
        const signer = p.treeHead.block?.keyId ?? null;
        const records = await readKeyRecords(bus.streams);
        const pem =
          records.find((k) => k.trusted && k.record.keyId === signer)?.record.publicKey ?? records.filter((k) => k.trusted).at(-1)?.record.publicKey ?? null;
        await writeProofFolder(resolve(opts.out), p, pem);
        console.log(
          `proof of event ${opts.event} (entry ${p.entry.height}) in the tree of ${p.treeSize} of ${opts.tenant}, root ${p.rootHash}, written to ${resolve(opts.out)}`,
        );
      } finally {
        trees.close();
        await bus.close();
      }
    });

  ledger
    .command('consistency')
    .description("consistency proof that a tenant's tree of --to leaves extends its tree of --from leaves (JSON)")
    .requiredOption('--tenant <id>', 'the tenant')
    .requiredOption('--from <n>', 'the older size (a checkpoint you hold)')
    .option('--to <n>', 'the newer size (default: the newest block)')
    .option('--data <dir>', 'data folder of a running install (STOCKADE_DATA)')
    .option('--nats-url <urls>', 'NATS servers (NATS_URL)')
    .action(async (opts: BusOpts & { tenant: string; from: string; to?: string }) => {
      const from = sizeOf(opts.from, '--from');
      const to = opts.to === undefined ? undefined : sizeOf(opts.to, '--to');
      const bus = await connectBus({ ...opts, name: 'stockade-ledger-consistency', user: 'auditor' });
      const trees = new LedgerTrees({ streams: bus.streams, dir: null });
      try {
        console.log(JSON.stringify(await trees.consistency(opts.tenant, from, to), null, 2));
      } finally {
        trees.close();
        await bus.close();
      }
    });

  ledger
    .command('check-proof')
    .description('check an inclusion or consistency proof offline (the JSON of the API or of `prove`, or a folder of `prove --out`) with ledger keys you trust')
    .argument('<proof>', 'a JSON file, or a folder holding proof.json')
    .option('--key <pem>', 'a ledger public key you trust (SPKI PEM; repeatable)', collect)
    .option('--key-id <id>', "trust the folder's key.pem if its recomputed id is this one")
    .option('--witness <vkey>', "a witness's verifier key: the checkpoint must carry its cosignature (repeatable)", collect)
    .option('--witness-quorum <n>', 'how many of the --witness keys must have cosigned (default: 1)')
    .action(async (path: string, opts: { key?: string[]; keyId?: string; witness?: string[]; witnessQuorum?: string }) => {
      const isDir = (await stat(path)).isDirectory();
      const answer = JSON.parse(await readFile(isDir ? join(path, 'proof.json') : path, 'utf8')) as InclusionProof | ConsistencyAnswer;
      const keys = await Promise.all((opts.key ?? []).map((k) => readPublicKey(k)));
      if (opts.keyId) {
        if (!isDir) throw new StkError('STK_ERR_CONFIG', '--key-id takes the key.pem of a proof folder');
        const k = await readPublicKey(join(path, 'key.pem'));
        if (keyIdOf(k) !== opts.keyId) throw new StkError('STK_ERR_CONFIG', `key.pem is key ${keyIdOf(k)}, not ${opts.keyId}`);
        keys.push(k);
      }
      if (!keys.length) throw new StkError('STK_ERR_CONFIG', 'check-proof needs the ledger key you trust: --key PEM or --key-id ID');
      const trust: ProofTrust = {
        keys,
        ...(opts.witness?.length ? { witnesses: { keys: opts.witness, quorum: quorumOf(opts.witnessQuorum, opts.witness.length) } } : {}),
      };
      const r = 'auditPath' in answer ? checkInclusion(answer, trust) : checkConsistency(answer, trust);
      for (const l of r.lines) console.log(l);
      if (r.ok) console.log('OK');
      else {
        console.log(`FAIL: ${r.problem}`);
        process.exitCode = 1;
      }
    });

  ledger
    .command('log-key')
    .description('the install origin and the ledger keys as C2SP verifier keys: what a witness (`witness serve --ledger`) or an auditor configures')
    .option('--tenant <id>', "also print this tenant's log vkey")
    .option('--origin <origin>', 'the install origin, if configured (STOCKADE_LEDGER_ORIGIN)')
    .option('--data <dir>', 'data folder of a running install (STOCKADE_DATA)')
    .option('--nats-url <urls>', 'NATS servers (NATS_URL)')
    .action(async (opts: BusOpts & { tenant?: string; origin?: string }) => {
      const bus = await connectBus({ ...opts, name: 'stockade-ledger-log-key', user: 'auditor' });
      try {
        const trusted = (await readKeyRecords(bus.streams)).filter((k) => k.trusted);
        if (!trusted.length) throw new StkError('STK_ERR_LEDGER_KEY', 'LEDGER records no ledger key yet (start the sealer first)');
        const origin = opts.origin ?? process.env.STOCKADE_LEDGER_ORIGIN ?? defaultInstallOrigin(trusted[0]!.record.keyId);
        console.log(`install origin ${origin}`);
        for (const k of trusted) {
          const material = encodeBase64(Uint8Array.of(SIG_TYPE_ED25519, ...rawPublicKey(k.key!)));
          console.log(`key ${k.record.keyId} (from ${k.record.at}): witness serve --ledger ${origin}+${material}`);
          if (opts.tenant) console.log(`  ${opts.tenant}: vkey ${tenantVkey(k.key!, tenantOrigin(origin, opts.tenant))}`);
        }
      } finally {
        await bus.close();
      }
    });
}

function sizeOf(v: string, flag: string): number {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(v)) throw new StkError('STK_ERR_CONFIG', `${flag} must be a tree size (a whole number)`);
  return Number(v);
}

function collect(v: string, acc: string[] = []): string[] {
  return [...acc, v];
}

function quorumOf(flag: string | undefined, witnesses: number): number {
  const n = flag === undefined ? 1 : Number(flag);
  if (!Number.isInteger(n) || n < 1 || n > witnesses) throw new StkError('STK_ERR_CONFIG', `--witness-quorum must be a whole number from 1 to ${witnesses}`);
  return n;
}
