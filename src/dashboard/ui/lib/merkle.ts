/**
 * Checks a telemetry item's inclusion proof in the browser, with the browser's own SHA-256: the
 * item's canonical JSON is hashed to its leaf, the audit path is followed to a root (RFC 9162
 * §2.1.3.2), and that root is compared with the one the sealed `telemetry.batch-received` event
 * carries. The server's `src/merkle/` does the same; this copy is what makes the check the
 * browser's rather than a claim of the server's. (`stockade telemetry verify-proof` is the same
 * check outside any browser.)
 */

/** A proof as `GET …/telemetry/items/:telemetryItemId/proof` gives it (format 2: the item named `<batch>:<index>`). */
export interface TelemetryProof {
  format: 2;
  itemId: string;
  agentId: string;
  item: Record<string, unknown>;
  index: number;
  size: number;
  leafHash: string;
  proof: string[];
  merkleRoot: string;
  batch: {
    id: string;
    type: string;
    at: string;
    version: number;
    aggregate: { type: string; id: string };
    actor: { kind: string; id: string };
    data: { agentId: string; batchId: string; count: number; merkleRoot: string };
  };
}

export type ProofCheck = { ok: true } | { ok: false; reason: string } | { ok: null; reason: string };

/**
 * Canonical JSON as `src/merkle/canonical-json.ts` writes it: object keys sorted by UTF-16 code
 * units, no whitespace, strings and numbers as JSON.stringify writes them.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

const hex = (b: ArrayBuffer): string => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
const bytes = (h: string): Uint8Array => Uint8Array.from(h.match(/../g) ?? [], (x) => Number.parseInt(x, 16));

async function sha256(prefix: number, ...parts: Uint8Array[]): Promise<Uint8Array> {
  const all = new Uint8Array(1 + parts.reduce((n, p) => n + p.length, 0));
  all[0] = prefix;
  let at = 1;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', all));
}

/** A proof as `GET …/scans/:runId/items/:itemId/proof` gives it (src/scan/runs/proof.ts). */
export interface ScanProof {
  format: 1;
  kind: 'scan-item';
  runId: string;
  index: number;
  count: number;
  item: Record<string, unknown>;
  seq: number;
  leafHash: string;
  proof: string[];
  merkleRoot: string;
  run: { id: string; type: string; at: string; version: number; actor: { kind: string; id: string }; data: { merkleRoot: string; itemCount: number } };
}

/** Checks a telemetry proof; `ok: null` when this browser cannot hash (a page served over plain http to another host). */
export async function checkProof(p: TelemetryProof): Promise<ProofCheck> {
  if (p.batch.data.merkleRoot !== p.merkleRoot) return { ok: false, reason: 'the proof leads to another root than the sealed batch event' };
  if (p.batch.data.count !== p.size) return { ok: false, reason: 'the proof names another batch size than the sealed batch event' };
  if (p.itemId !== `${p.batch.aggregate.id}:${p.index}`) return { ok: false, reason: 'the item id does not name the sealed batch and the leaf index' };
  return checkInclusion({ item: p.item, index: p.index, size: p.size, leafHash: p.leafHash, proof: p.proof, merkleRoot: p.merkleRoot });
}

/** Checks a scan item's proof against the root and item count its run's sealed `scan.completed` event carries. */
export async function checkScanProof(p: ScanProof): Promise<ProofCheck> {
  if (p.run.data.merkleRoot !== p.merkleRoot) return { ok: false, reason: "the proof leads to another root than the run's sealed event" };
  if (p.run.data.itemCount !== p.count) return { ok: false, reason: "the proof names another item count than the run's sealed event" };
  return checkInclusion({ item: p.item, index: p.index, size: p.count, leafHash: p.leafHash, proof: p.proof, merkleRoot: p.merkleRoot });
}

/** The RFC 9162 inclusion check of one item's audit path against a root. */
async function checkInclusion(p: { item: unknown; index: number; size: number; leafHash: string; proof: string[]; merkleRoot: string }): Promise<ProofCheck> {
  if (!globalThis.crypto?.subtle) return { ok: null, reason: 'this browser offers no SHA-256 to pages served over plain http' };
  const hash = /^[0-9a-f]{64}$/;
  if (!hash.test(p.merkleRoot) || !p.proof.every((x) => hash.test(x))) return { ok: false, reason: 'the proof is malformed' };
  const leaf = await sha256(0, new TextEncoder().encode(canonicalJson(p.item)));
  if (hex(leaf.buffer as ArrayBuffer) !== p.leafHash) return { ok: false, reason: 'the item does not hash to its leaf' };
  if (!(p.index >= 0 && p.index < p.size)) return { ok: false, reason: 'the index is not in the tree' };
  let fn = p.index;
  let sn = p.size - 1;
  let r = leaf;
  for (const h of p.proof) {
    if (sn === 0) return { ok: false, reason: 'the audit path is too long' };
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(1, bytes(h), r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = await sha256(1, r, bytes(h));
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) return { ok: false, reason: 'the audit path is too short' };
  return hex(r.buffer as ArrayBuffer) === p.merkleRoot ? { ok: true } : { ok: false, reason: 'the audit path does not lead to the sealed root' };
}
