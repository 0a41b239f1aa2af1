import { decodeBase64, encodeBase64, parseDecimal } from '../transparency/mod.ts';

/** The most consistency proof lines a client may send (tlog-witness §add-checkpoint). */
export const MAX_PROOF_LINES = 63;

/** The body of an add-checkpoint request, split into its parts. */
export interface AddCheckpointRequest {
  oldSize: number;
  proof: Uint8Array[];
  /** The checkpoint note, every byte after the blank line. */
  note: Uint8Array;
}

/**
 * Parses `old <size>\n`, up to 63 base64 hash lines, a blank line, then the checkpoint note
 * (tlog-witness §add-checkpoint). Never throws.
 */
export function parseAddCheckpoint(body: Uint8Array): { ok: true; request: AddCheckpointRequest } | { ok: false; detail: string } {
  let pos = 0;
  // Header lines are ASCII; latin1 maps every byte to one character, so a stray byte fails the patterns below.
  const line = (): string | null => {
    const nl = body.indexOf(0x0a, pos);
    if (nl < 0) return null;
    const text = Buffer.from(body.buffer, body.byteOffset + pos, nl - pos).toString('latin1');
    pos = nl + 1;
    return text;
  };
  const first = line();
  const m = first === null ? null : /^old ([0-9]+)$/.exec(first);
  const oldSize = m ? parseDecimal(m[1]!) : null;
  if (oldSize === null) return { ok: false, detail: 'the body does not start with an `old <size>` line' };
  const proof: Uint8Array[] = [];
  for (;;) {
    const l = line();
    if (l === null) return { ok: false, detail: 'no blank line before the checkpoint' };
    if (l === '') break;
    if (proof.length === MAX_PROOF_LINES) return { ok: false, detail: `more than ${MAX_PROOF_LINES} consistency proof lines` };
    const h = decodeBase64(l);
    if (h?.length !== 32) return { ok: false, detail: 'a consistency proof line is not base64 of a 32-byte hash' };
    proof.push(h);
  }
  const note = body.subarray(pos);
  if (note.length === 0) return { ok: false, detail: 'no checkpoint after the blank line' };
  return { ok: true, request: { oldSize, proof, note } };
}

/** The add-checkpoint body for a checkpoint note, the size the client last saw cosigned, and the proof between them. */
export function formatAddCheckpoint(oldSize: number, proof: readonly Uint8Array[], note: string | Uint8Array): Uint8Array {
  const head = [`old ${oldSize}`, ...proof.map(encodeBase64), ''].map((l) => `${l}\n`).join('');
  return Buffer.concat([Buffer.from(head, 'ascii'), typeof note === 'string' ? Buffer.from(note, 'utf8') : note]);
}
