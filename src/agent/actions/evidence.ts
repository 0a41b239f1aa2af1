import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import type { HostRoot } from '../host-root.ts';
import { type ActionResult, failed, succeeded } from './result.ts';

/** A collect-evidence result: the bytes travel beside the result (the ingress stores them), not inside its JSON. */
export interface EvidenceResult extends ActionResult {
  content: Buffer | null;
}

/** What the file system calls a file that is not a regular one. */
function kindOf(st: {
  isDirectory(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSymbolicLink(): boolean;
}): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSymbolicLink()) return 'a symlink';
  return 'not a regular file';
}

function refuse(output: string, details: Record<string, unknown>): EvidenceResult {
  return { ...failed(`refused: ${output}`, details), content: null };
}

/**
 * `collect-evidence {path, maxBytes}`: reads one regular file of the host (a host path; symlinks
 * are followed only inside the host root) and returns its SHA-256, size and bytes (as of when it was
 * opened: a growing log is taken up to that size). Refuses a file over `maxBytes`, anything that is not a regular
 * file, and a path that changed between resolving and opening. Opened O_NONBLOCK so a FIFO put
 * in its place cannot hang the agent.
 */
export async function collectEvidence(root: HostRoot, args: { path: unknown; maxBytes: unknown }): Promise<EvidenceResult> {
  const { path, maxBytes } = args;
  if (typeof path !== 'string' || !path.startsWith('/') || path.includes('\0')) return refuse('path must be an absolute host path', { path });
  if (typeof maxBytes !== 'number' || !Number.isSafeInteger(maxBytes) || maxBytes < 0)
    return refuse('maxBytes must be a non-negative integer', { path, maxBytes });
  let resolved: string;
  try {
    resolved = await root.resolveInRoot(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'ENOENT';
    return refuse(code === 'ELOOP' ? `${path}: too many symlinks` : `${path}: no such file (${code})`, { path, reason: code });
  }
  const real = root.path(resolved);
  const details = { path, resolvedPath: resolved, maxBytes };
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    return refuse(code === 'ELOOP' ? `${resolved} became a symlink while being opened` : `${resolved} cannot be opened (${code})`, {
      ...details,
      reason: code,
    });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return refuse(`${resolved} is ${kindOf(st)}`, { ...details, reason: 'not-regular' });
    const seen = await lstat(real).catch(() => null);
    if (seen?.ino !== st.ino || seen.dev !== st.dev) return refuse(`${resolved} was replaced while being opened`, { ...details, reason: 'replaced' });
    if (st.size > maxBytes)
      return refuse(`${resolved} is ${st.size} bytes, over the limit of ${maxBytes}`, { ...details, reason: 'too-large', sizeBytes: st.size });
    // The file as it was when stat'ed: a log that grows while it is read is taken up to that size.
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    const content = buf.subarray(0, got);
    const sha256 = createHash('sha256').update(content).digest('hex');
    const facts = { ...details, sha256, sizeBytes: got, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, modifiedAt: st.mtime.toISOString() };
    return { ...succeeded(`${resolved}: ${got} bytes, SHA-256 ${sha256}`, facts), content };
  } finally {
    await fh.close();
  }
}
