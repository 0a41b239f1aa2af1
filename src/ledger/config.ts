import { join } from 'node:path';
import { StkError } from '../errors.ts';
import type { CheckpointTargets } from './checkpoint.ts';

/** The sealer's settings; flags win over `STOCKADE_LEDGER_*` variables. */
export interface LedgerConfig extends CheckpointTargets {
  /** Keyring folder. @defaultValue <data>/ledger */
  keyDir: string;
  blockMaxEntries: number;
  blockMaxMs: number;
}

export interface LedgerConfigInput {
  keyDir?: string;
  blockMaxEntries?: string | number;
  blockMaxMs?: string | number;
  checkpointMs?: string | number;
  checkpointFile?: string;
  witnessUrl?: string;
}

function positiveInt(value: string | number | undefined, fallback: number, what: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new StkError('STK_ERR_CONFIG', `${what} must be a positive integer, got ${JSON.stringify(value)}`, { what, value });
  return n;
}

export function loadLedgerConfig(dataDir: string, input: LedgerConfigInput = {}, env: NodeJS.ProcessEnv = process.env): LedgerConfig {
  const blockMaxEntries = positiveInt(input.blockMaxEntries ?? env.STOCKADE_LEDGER_BLOCK_MAX_ENTRIES, 1000, 'block max entries');
  if (blockMaxEntries > 5000)
    throw new StkError('STK_ERR_CONFIG', 'block max entries must be at most 5000 (a block must fit in one NATS message)', { blockMaxEntries });
  const checkpointFile = input.checkpointFile ?? env.STOCKADE_LEDGER_CHECKPOINT_FILE;
  const witnessUrl = input.witnessUrl ?? env.STOCKADE_LEDGER_WITNESS_URL;
  if (witnessUrl && !/^https?:\/\//.test(witnessUrl)) throw new StkError('STK_ERR_CONFIG', 'witness URL must be http(s)', { witnessUrl });
  return {
    keyDir: input.keyDir ?? env.STOCKADE_LEDGER_KEY_DIR ?? join(dataDir, 'ledger'),
    blockMaxEntries,
    blockMaxMs: positiveInt(input.blockMaxMs ?? env.STOCKADE_LEDGER_BLOCK_MAX_MS, 250, 'block max ms'),
    checkpointIntervalMs: positiveInt(input.checkpointMs ?? env.STOCKADE_LEDGER_CHECKPOINT_MS, 60_000, 'checkpoint interval ms'),
    ...(checkpointFile ? { checkpointFile } : {}),
    ...(witnessUrl ? { witnessUrl } : {}),
  };
}
