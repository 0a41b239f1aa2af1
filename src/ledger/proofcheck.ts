import { createPublicKey, hash, type KeyObject } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { verifyConsistency, verifyInclusion } from '../merkle/mod.ts';
import { openNote, verifyCosignedCheckpoint } from '../transparency/mod.ts';
import { parseTenantCheckpoint, tenantNoteVerifier, tenantVkey } from './checkpoint.ts';
import { entryText, eventPreimagePrefix } from './format.ts';
import { keyIdOf, verifyText } from './keys.ts';
import type { ConsistencyAnswer, InclusionProof, SignedTreeHead } from './trees.ts';

/** What an offline check of a proof found: ok, or the first thing that does not hold. */
export type ProofCheck = { ok: true; lines: string[] } | { ok: false; lines: string[]; problem: string };

/** Whom the checker trusts: ledger public keys obtained independently, and optionally witnesses. */
export interface ProofTrust {
  /** Ledger public keys (any of the install's, current or retired). */
  keys: KeyObject[];
  /** Witness vkeys and how many must have cosigned the checkpoint (when the proof carries one). */
  witnesses?: { keys: string[]; quorum: number };
}

const fromHex = (h: string): Uint8Array => Buffer.from(h, 'hex');

/**
 * Checks an inclusion proof with no access to the install: the record's bytes give its event
 * hash, the entry's bytes give the leaf, the audit path leads from the leaf to the root, and the
 * root is signed — by a block's signature over its text (format 2 signs the root), or by the
 * tenant's checkpoint note, with a key the caller trusts.
 */
export function checkInclusion(p: InclusionProof, trust: ProofTrust): ProofCheck {
  const lines: string[] = [];
  const fail = (problem: string): ProofCheck => ({ ok: false, lines, problem });
  const e = p.entry;
  if (p.record) {
    const pre = Buffer.concat([eventPreimagePrefix(p.record.subject, p.record.version), Buffer.from(p.record.body, 'base64')]);
    const h = sha256hex(pre);
    if (h !== e.eventHash) return fail(`the record's event hash is ${h}, the entry says ${e.eventHash}`);
    lines.push(`record: event hash ${h}`);
  } else lines.push('record: not included (EVENTS no longer holds it unchanged); checking the entry alone');
  if (p.leafIndex !== e.height - 1) return fail(`leaf index ${p.leafIndex} is not height ${e.height} - 1`);
  const text = entryText(p.tenant, e.height, e.prevHead, e.eventHash);
  if (sha256hex(Buffer.from(text)) !== e.entryHash) return fail('the entry hash is not SHA-256 of the entry');
  const leaf = Buffer.from(sha256hex(Buffer.concat([Buffer.of(0), Buffer.from(text)])), 'hex');
  const r = verifyInclusion(leaf, p.leafIndex, p.treeSize, p.auditPath.map(fromHex), fromHex(p.rootHash));
  if (!r.ok) return fail(`the audit path does not lead to root ${p.rootHash} (${r.reason})`);
  lines.push(`inclusion: leaf ${p.leafIndex} of ${p.treeSize}, root ${p.rootHash}`);
  const signed = checkTreeHead(p.tenant, p.treeHead, trust);
  lines.push(...signed.lines);
  if (!signed.ok) return fail(signed.problem);
  if (p.treeHead.rootHash !== p.rootHash || p.treeHead.size !== p.treeSize) return fail('the signed tree head is not the tree the path leads to');
  return { ok: true, lines };
}

/** Checks a consistency proof between two signed tree heads, offline. */
export function checkConsistency(c: ConsistencyAnswer, trust: ProofTrust): ProofCheck {
  const lines: string[] = [];
  const fail = (problem: string): ProofCheck => ({ ok: false, lines, problem });
  for (const head of [c.from, c.to]) {
    const s = checkTreeHead(c.tenant, head, trust);
    lines.push(...s.lines);
    if (!s.ok) return fail(s.problem);
  }
  const r = verifyConsistency(c.from.size, c.to.size, fromHex(c.from.rootHash), fromHex(c.to.rootHash), c.proof.map(fromHex));
  if (!r.ok && !(r.reason === 'empty-old-tree' && c.from.size === 0)) return fail(`the consistency proof does not hold (${r.reason})`);
  lines.push(`consistency: the tree of ${c.to.size} extends the tree of ${c.from.size}`);
  return { ok: true, lines };
}

/** A tree head is signed when a trusted key signed its block's text (which names the root) or its checkpoint note. */
function checkTreeHead(tenant: string, t: SignedTreeHead, trust: ProofTrust): ProofCheck {
  const lines: string[] = [];
  let signed = false;
  if (t.block) {
    const text = t.block.signedText.split('\n');
    const key = trust.keys.find((k) => keyIdOf(k) === t.block!.keyId);
    if (text[0] !== 'stk-block/2' || text[1] !== tenant || text[4] !== String(t.size) || text[7] !== t.rootHash) {
      return { ok: false, lines, problem: `block ${t.block.index}'s signed text does not sign tenant ${tenant}'s tree of ${t.size} with root ${t.rootHash}` };
    }
    if (!key) return { ok: false, lines, problem: `block ${t.block.index} is signed by key ${t.block.keyId}, which is not one you trust` };
    if (!verifyText(key, t.block.signedText, t.block.signature)) return { ok: false, lines, problem: `block ${t.block.index}'s signature does not verify` };
    lines.push(`signed: block ${t.block.index} by key ${t.block.keyId} signs size ${t.size}, root ${t.rootHash}`);
    signed = true;
  }
  if (t.checkpoint) {
    const cp = parseTenantCheckpoint(t.checkpoint);
    if (!cp || cp.tenant !== tenant || cp.size !== t.size || cp.rootHash !== t.rootHash)
      return { ok: false, lines, problem: 'the checkpoint is not a checkpoint of this tree head' };
    const key = trust.keys.find((k) => openNote(t.checkpoint!, [tenantNoteVerifier(k, cp.origin)]).ok);
    if (!key) return { ok: false, lines, problem: `the checkpoint of ${cp.origin} is not signed by a key you trust` };
    lines.push(`signed: checkpoint ${cp.origin} of size ${cp.size} by key ${keyIdOf(key)}`);
    if (trust.witnesses) {
      const w = verifyCosignedCheckpoint(t.checkpoint, {
        logKeys: [tenantVkey(key, cp.origin)],
        witnessKeys: trust.witnesses.keys,
        quorum: trust.witnesses.quorum,
      });
      if (!w.ok) return { ok: false, lines, problem: `witnesses: ${w.detail}` };
      lines.push(`witnessed: ${w.cosignatures.map((c) => c.name).join(', ')}`);
    }
    signed = true;
  } else if (trust.witnesses) return { ok: false, lines, problem: 'witness cosignatures were required, and this tree head has no checkpoint' };
  if (!signed) return { ok: false, lines, problem: `no signature covers the tree of ${t.size} (no format-2 block ends there, and no checkpoint of that size)` };
  return { ok: true, lines };
}

function sha256hex(b: Uint8Array): string {
  return hash('sha256', b, 'hex');
}

/**
 * Writes a proof as files for the documented script (docs/ledger-format.md, "Checking a proof
 * with standard tools"): `record.evt`, `entry`, `path`, `head`, the signed tree head
 * (`block.msg`/`block.sig` and/or `checkpoint.note`), the signer's public key and `proof.json`.
 */
export async function writeProofFolder(dir: string, p: InclusionProof, signerPem: string | null): Promise<void> {
  await mkdir(dir, { recursive: true });
  if ((await readdir(dir)).length) throw new Error(`proof folder ${dir} is not empty`);
  const e = p.entry;
  if (p.record)
    await writeFile(join(dir, 'record.evt'), Buffer.concat([eventPreimagePrefix(p.record.subject, p.record.version), Buffer.from(p.record.body, 'base64')]));
  await writeFile(join(dir, 'entry'), entryText(p.tenant, e.height, e.prevHead, e.eventHash));
  await writeFile(join(dir, 'path'), p.auditPath.map((h) => `${h}\n`).join(''));
  await writeFile(join(dir, 'head'), `${p.leafIndex}\n${p.treeSize}\n${p.rootHash}\n`);
  if (p.treeHead.block) {
    await writeFile(join(dir, 'block.msg'), p.treeHead.block.signedText);
    await writeFile(join(dir, 'block.sig'), Buffer.from(p.treeHead.block.signature, 'base64'));
  }
  if (p.treeHead.checkpoint) await writeFile(join(dir, 'checkpoint.note'), p.treeHead.checkpoint);
  if (signerPem) await writeFile(join(dir, 'key.pem'), signerPem);
  await writeFile(join(dir, 'proof.json'), `${JSON.stringify(p, null, 2)}\n`);
}

/** Reads a ledger public key (SPKI PEM). */
export async function readPublicKey(path: string): Promise<KeyObject> {
  return createPublicKey(await readFile(path, 'utf8'));
}
