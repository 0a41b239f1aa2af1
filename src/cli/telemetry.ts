import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { StkError } from '../errors.ts';
import { checkTelemetryProof } from '../telemetry/proof.ts';

/**
 * `stockade telemetry verify-proof FILE`: checks, offline and with nothing but the file, a proof
 * answered by `GET /api/v1/tenants/:tenant/telemetry/items/:telemetryItemId/proof`: the item hashes to its leaf, the
 * audit path leads to the root, the root, size and agent are those the batch event sealed, and the
 * item id names that event's batch and the leaf's index. Proofs of format 1 (by sequence, saved
 * before items were named by batch) are still checked.
 * Exit status 0 when it verifies, 2 when it does not (1 is left for errors such as an unreadable file).
 */
export function registerTelemetry(program: Command): void {
  const telemetry = program.command('telemetry').description('agent telemetry: check Merkle proofs of items');
  telemetry
    .command('verify-proof <file>')
    .description('verify a telemetry item proof (the JSON of GET …/telemetry/items/:telemetryItemId/proof) offline')
    .action(async (file: string) => {
      let proof: unknown;
      try {
        proof = JSON.parse(await readFile(file, 'utf8'));
      } catch (err) {
        throw new StkError('STK_ERR_VALIDATION', `${file} is not a JSON file: ${(err as Error).message}`, { field: 'file' });
      }
      const r = checkTelemetryProof(proof);
      const p = proof as { itemId?: string; seq?: number; index?: number; size?: number; merkleRoot?: string; batch?: { id?: string } };
      if (r.ok) {
        console.log(
          JSON.stringify({
            ok: true,
            ...(p.itemId !== undefined ? { itemId: p.itemId } : { seq: p.seq }),
            index: p.index,
            size: p.size,
            merkleRoot: p.merkleRoot,
            batchEvent: p.batch?.id,
          }),
        );
        return;
      }
      console.log(JSON.stringify({ ok: false, reason: r.reason }));
      process.exitCode = 2;
    });
}
