/**
 * A detector partition's checkpoint in KV: the state derived from EVENTS (agent health, the
 * outbox) and the EVENTS sequence it reflects, written together so that a worker that takes the
 * partition over — after a restart, a crash, a lease moving — resumes reading EVENTS just after
 * it. What happened after the checkpoint is read again; everything the detector writes from it is
 * idempotent, so reading it again changes nothing.
 *
 * KV values are bounded by the server's max payload (1 MiB by default), so a large state is split
 * into chunks `ck.<p>.<gen>.<i>` under a manifest `ck.<p>` written last. Each write uses a fresh
 * random `gen`, so two writers (a lease that just moved) never mix their chunks: the manifest
 * written last names a complete set, and a writer deletes only the set it replaced.
 */
import { StkError } from '../errors.ts';
import { newId } from '../ids.ts';
import type { Bucket } from '../log/mod.ts';

/** Characters per chunk: at most 3 bytes each in UTF-8, well under the 1 MiB payload. */
const CHUNK_CHARS = 256 * 1024;

/** What a checkpoint holds. */
export interface Checkpoint<S> {
  /** Highest EVENTS sequence the state reflects. */
  evSeq: number;
  state: S;
}

interface Manifest {
  v: 1;
  gen: string;
  chunks: number;
  evSeq: number;
}

/** Reads the partition's checkpoint; null when there is none (a first start). */
export async function readCheckpoint<S>(kv: Bucket, partition: number): Promise<Checkpoint<S> | null> {
  // A chunk can vanish between reading a manifest and its chunks when another writer replaced it
  // just then: the manifest is read again.
  for (let attempt = 0; attempt < 5; attempt++) {
    const m = await kv.get(`ck.${partition}`);
    if (m?.operation !== 'PUT' || m.value.length === 0) return null;
    const manifest = JSON.parse(m.string()) as Manifest;
    let text = '';
    let complete = true;
    for (let i = 0; i < manifest.chunks && complete; i++) {
      const c = await kv.get(`ck.${partition}.${manifest.gen}.${i}`);
      if (c?.operation !== 'PUT') complete = false;
      else text += c.string();
    }
    if (complete) return { evSeq: manifest.evSeq, state: JSON.parse(text) as S };
  }
  throw new StkError('STK_ERR_UNAVAILABLE', `the detector checkpoint of partition ${partition} names chunks that are not there`, { partition });
}

/**
 * A checkpoint whose state is already JSON text: what a partition takes while nothing else runs,
 * so the state it names cannot change while the write goes on (text is a snapshot that costs one
 * serialization, where a deep copy of the state then its serialization cost two).
 */
export interface SerializedCheckpoint {
  evSeq: number;
  json: string;
}

/** Writes the state as the partition's checkpoint: chunks of a new generation, then the manifest, then the chunks it replaced go. */
export async function writeCheckpoint<S>(kv: Bucket, partition: number, cp: Checkpoint<S> | SerializedCheckpoint): Promise<void> {
  const text = 'json' in cp ? cp.json : JSON.stringify(cp.state);
  const old = await kv.get(`ck.${partition}`).catch(() => null);
  const before = old?.operation === 'PUT' && old.value.length ? (JSON.parse(old.string()) as Manifest) : null;
  const gen = newId();
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += CHUNK_CHARS) chunks.push(text.slice(i, i + CHUNK_CHARS));
  if (chunks.length === 0) chunks.push('');
  for (const [i, c] of chunks.entries()) await kv.put(`ck.${partition}.${gen}.${i}`, c);
  const manifest: Manifest = { v: 1, gen, chunks: chunks.length, evSeq: cp.evSeq };
  await kv.put(`ck.${partition}`, JSON.stringify(manifest));
  if (before) for (let i = 0; i < before.chunks; i++) await kv.purge(`ck.${partition}.${before.gen}.${i}`).catch(() => {});
}
