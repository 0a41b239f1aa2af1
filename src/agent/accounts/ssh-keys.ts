import { createHash } from 'node:crypto';

/** A public key of an authorized_keys file, known by its fingerprint. */
export interface AuthorizedKey {
  /** `SHA256:` and the unpadded base64 of the SHA-256 of the key blob, as `ssh-keygen -lf` prints it. */
  fingerprint: string;
  type: string;
  comment: string;
  /** The options field (`from="…",command="…"`), null when there is none. */
  options: string | null;
  /** Host path of the file and the line. */
  file: string;
  line: number;
}

const KEY_TYPE =
  /^(?:ssh-(?:rsa|dss|ed25519|ed448)|ecdsa-sha2-nistp(?:256|384|521)|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com|[a-z0-9-]+-cert-v01@openssh\.com)$/;

/** Splits at spaces and tabs that are not inside double quotes (options may quote spaces). */
function fields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && quoted && i + 1 < line.length) cur += c + line[++i];
    else if (c === '"') {
      quoted = !quoted;
      cur += c;
    } else if (!quoted && (c === ' ' || c === '\t')) {
      if (cur) out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur) out.push(cur);
  return out;
}

/**
 * The fingerprint of a base64 key blob, or null when the blob is not an SSH key of `type` (the
 * blob starts with its own type name as an SSH string; a line whose blob disagrees is not a key).
 */
export function keyFingerprint(type: string, base64: string): string | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return null;
  const blob = Buffer.from(base64, 'base64');
  if (blob.length < 4) return null;
  const n = blob.readUInt32BE(0);
  if (4 + n > blob.length || blob.subarray(4, 4 + n).toString('latin1') !== type) return null;
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Parses an authorized_keys file; comments, blank lines and lines that hold no valid key are skipped. */
export function parseAuthorizedKeys(text: string, file: string): AuthorizedKey[] {
  const out: AuthorizedKey[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const f = fields(line);
    const at = KEY_TYPE.test(f[0] ?? '') ? 0 : KEY_TYPE.test(f[1] ?? '') ? 1 : -1;
    if (at < 0 || f[at + 1] === undefined) continue;
    const fingerprint = keyFingerprint(f[at]!, f[at + 1]!);
    if (fingerprint === null) continue;
    out.push({ fingerprint, type: f[at]!, comment: f.slice(at + 2).join(' '), options: at === 1 ? f[0]! : null, file, line: i + 1 });
  }
  return out;
}
