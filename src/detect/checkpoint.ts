/**
 * A detector partition's checkpoint in KV: the state derived from EVENTS (agent health, the
 * outbox) and the EVENTS sequence it reflects, written together so that a worker that takes the
 * partition over — after a restart, a crash, a lease moving — resumes reading EVENTS just after
 * it. What happened after the checkpoint is read again; everything the detector writes from it is
 * idempotent, so reading it again changes nothing.
 *
 * KV values are bounded by the server's max payload (1 MiB by default), so a large state is split
 * into chunks `ck.<p>.<gen>.<i>` under a manifest `ck.<p>` written last.
 */
import type { Bucket } from '../log/mod.ts';

const CHUNK_BYTES = 256 * 1024;

/** What a checkpoint holds. */
export interface Checkpoint<S> {
  /** Highest EVENTS sequence the state reflects. */
  evSeq: number;
  state: S;
}

interface Manifest {
  v: 1;
  gen: number;
  chunks: number;
  evSeq: number;
}

/** Reads the partition's checkpoint; null when there is none (a first start). */
export async function readCheckpoint<S>(kv: Bucket, partition: number): Promise<Checkpoint<S> | null> {
  const m = await kv.get(`ck.${partition}`);
  if (m?.operation !== 'PUT' || m.value.length === 0) return null;
  const manifest = JSON.parse(m.string()) as Manifest;
  let text = '';
  for (let i = 0; i < manifest.chunks; i++) {
    const c = await kv.get(`ck.${partition}.${manifest.gen}.${i}`);
    if (c?.operation !== 'PUT') return null;
    text += c.string();
  }
  return { evSeq: manifest.evSeq, state: JSON.parse(text) as S };
}

/** Writes the state as the partition's checkpoint: chunks of a new generation, then the manifest, then the old chunks go. */
export async function writeCheckpoint<S>(kv: Bucket, partition: number, cp: Checkpoint<S>): Promise<void> {
  const old = await kv.get(`ck.${partition}`).catch(() => null);
  const before = old && old.operation === 'PUT' && old.value.length ? (JSON.parse(old.string()) as Manifest) : null;
  const gen = (before?.gen ?? 0) + 1;
  const text = JSON.stringify(cp.state);
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += CHUNK_BYTES) chunks.push(text.slice(i, i + CHUNK_BYTES));
  if (chunks.length === 0) chunks.push('');
  for (const [i, c] of chunks.entries()) await kv.put(`ck.${partition}.${gen}.${i}`, c);
  const manifest: Manifest = { v: 1, gen, chunks: chunks.length, evSeq: cp.evSeq };
  await kv.put(`ck.${partition}`, JSON.stringify(manifest));
  if (before) for (let i = 0; i < before.chunks; i++) await kv.delete(`ck.${partition}.${before.gen}.${i}`).catch(() => {});
}
