import { createHash, X509Certificate } from 'node:crypto';
import { type HostRoot, readHostText } from './host-root.ts';

/**
 * The machine fingerprint an agent sends at enrollment: hex SHA-256 of a domain tag, the SHA-256 of
 * the install's CA certificate (the one the agent pins) and the machine id
 * (`/etc/machine-id`, else `/var/lib/dbus/machine-id`). Bound to the install, so the same machine
 * has unrelated fingerprints at two installs, and the machine id itself never leaves the host.
 * Null when the host has no machine id.
 *
 * What it is for: an admin revoking an agent can block its machine from enrolling again (an agent
 * re-enrolling by itself with a secret baked into its image). It is what the agent says, so it
 * stops an honest agent, not someone who holds the secret and sends another fingerprint: only
 * rotating the secret stops that.
 */
export async function machineFingerprint(root: HostRoot, caPem: string): Promise<string | null> {
  let id: string | null = null;
  for (const path of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    const text = (await readHostText(root, path, 4096))?.trim();
    if (text && /^[0-9a-fA-F]{32}$/.test(text)) {
      id = text.toLowerCase();
      break;
    }
  }
  if (!id) return null;
  const ca = createHash('sha256').update(new X509Certificate(caPem).raw).digest('hex');
  return createHash('sha256').update(`stockade machine v1\0${ca}\0${id}`).digest('hex');
}

/** True when an agent command must not be run: its expiry (as the ingress gave it) has passed on this host's clock. */
export function commandExpired(c: { expiresAt?: string }, now: Date = new Date()): boolean {
  return c.expiresAt !== undefined && Date.parse(c.expiresAt) <= now.getTime();
}
