import type { InstallPatchesResult, PackageResult } from './install.ts';

/** Room left for the JSON envelope of a result post under the ingress's 128 KiB result limit. */
const DEFAULT_MAX_BYTES = 96 * 1024;

/** What an install-patches result posts as its command result. */
export interface InstallCommandResult {
  outcome: 'succeeded' | 'failed';
  /** JSON of the result without its inventory, tool outputs trimmed to their tails to fit. */
  output: string;
}

const bytes = (v: unknown): number => Buffer.byteLength(JSON.stringify(v));

/**
 * The command result of an install-patches run, at most `maxBytes` of output. The fresh inventory
 * is left out (the agent reports it as its own `patch-inventory` item); each package's tool output
 * keeps its tail (where apt puts its errors) within an equal share of the room; if even the bare
 * per-package lines do not fit, the list is cut and `resultsOmitted` says how many are missing.
 */
export function commandResultOf(result: InstallPatchesResult, maxBytes = DEFAULT_MAX_BYTES): InstallCommandResult {
  const outcome = result.succeeded ? 'succeeded' : 'failed';
  const { inventory: _inventory, ...rest } = result;
  const bare: PackageResult[] = result.results.map((r) => ({ ...r, output: '', outputTruncated: r.outputTruncated || r.output !== '' }));
  let shown = bare;
  let omitted = 0;
  const envelope = (results: PackageResult[], extra: Record<string, unknown> = {}) => ({ ...rest, results, ...extra });
  while (shown.length > 0 && bytes(envelope(shown, { resultsOmitted: omitted })) > maxBytes) {
    shown = shown.slice(0, Math.floor(shown.length / 2));
    omitted = bare.length - shown.length;
  }
  if (omitted > 0) return { outcome, output: JSON.stringify(envelope(shown, { resultsOmitted: omitted })) };
  const room = maxBytes - bytes(envelope(bare));
  const share = Math.floor(room / Math.max(1, result.results.length));
  const trimmed = result.results.map((r, i) => {
    let tail = share > 0 ? r.output.slice(-share) : '';
    // JSON escaping and UTF-8 can make the tail longer than its characters: cut 10% more until it fits.
    while (tail !== '' && bytes(tail) - 2 > share) tail = tail.slice(Math.ceil(tail.length / 10));
    return { ...bare[i]!, output: tail, outputTruncated: r.outputTruncated || tail.length < r.output.length };
  });
  return { outcome, output: JSON.stringify(envelope(trimmed)) };
}
