import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { StkError } from '../errors.ts';
import { checkScanProof } from '../scan/runs/proof.ts';

/**
 * `stockade scan verify-proof FILE`: checks a scan item proof (the JSON of
 * `GET …/scans/:runId/items/:itemId/proof`) offline, with nothing but the file: the item hashes to
 * the leaf, the audit path leads to the root, and root, count and run are those of the
 * `scan.completed` event in it. That the event itself is in the tenant's signed ledger is what
 * `stockade ledger verify` (or an export checked with sha256sum and openssl) shows.
 */
export function registerScan(program: Command): void {
  const scan = program.command('scan').description('attack-surface scan runs');
  scan
    .command('verify-proof')
    .description('check a scan item proof offline (exit 0 when it verifies)')
    .argument('<file>', 'the proof JSON (- for stdin)')
    .action(async (file: string) => {
      let text: string;
      try {
        text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
      } catch (err) {
        throw new StkError('STK_ERR_CONFIG', `cannot read ${file}: ${(err as Error).message}`, { file }, { cause: err });
      }
      let proof: unknown;
      try {
        proof = JSON.parse(text);
      } catch {
        throw new StkError('STK_ERR_SCAN_PROOF_INVALID', `${file} is not JSON`, { reason: 'not JSON' });
      }
      const r = checkScanProof(proof);
      if (!r.ok) throw new StkError('STK_ERR_SCAN_PROOF_INVALID', `the proof does not verify: ${r.reason}`, { reason: r.reason });
      const p = proof as { runId: string; index: number; count: number; merkleRoot: string; run: { id: string; tenant: string; at: string } };
      console.log(`ok: item ${p.index} of ${p.count} belongs to scan run ${p.runId} of ${p.run.tenant}`);
      console.log(`Merkle root ${p.merkleRoot}, sealed by event ${p.run.id} at ${p.run.at}`);
    });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
