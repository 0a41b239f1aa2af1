import { readFileSync, statSync } from 'node:fs';
import type { HostRoot } from './host-root.ts';

/**
 * uid → user name from the host root's /etc/passwd, re-read only when the file's mtime or size
 * changes (a scan asks once per process). A missing file gives no names, not an error: users from
 * a directory (sssd, LDAP) are not in it either, and callers fall back to the number.
 */
export class UserNames {
  readonly #path: string;
  #stamp = '';
  #names = new Map<number, string>();

  constructor(root: HostRoot) {
    this.#path = root.path('/etc/passwd');
  }

  /** The name of `uid`, or null when /etc/passwd does not list it. */
  nameOf(uid: number): string | null {
    this.#refresh();
    return this.#names.get(uid) ?? null;
  }

  #refresh(): void {
    let stamp: string;
    try {
      const st = statSync(this.#path, { bigint: true });
      stamp = `${st.mtimeNs}:${st.size}:${st.ino}`;
    } catch {
      stamp = 'missing';
    }
    if (stamp === this.#stamp) return;
    this.#stamp = stamp;
    this.#names = new Map();
    if (stamp === 'missing') return;
    let text: string;
    try {
      text = readFileSync(this.#path, 'utf8');
    } catch {
      return; // unreadable: numbers stand in for names, as for users from a directory
    }
    for (const line of text.split('\n')) {
      const f = line.split(':');
      if (f.length < 7 || line.startsWith('#')) continue;
      const uid = Number(f[2]);
      // The first line for a uid wins, as getpwuid(3) answers.
      if (f[0] && /^\d+$/.test(f[2]!) && !this.#names.has(uid)) this.#names.set(uid, f[0]);
    }
  }
}
