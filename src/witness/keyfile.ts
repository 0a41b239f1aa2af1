import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StkError } from '../errors.ts';
import { SIG_TYPE_COSIGNATURE_V1, formatSignerKey, generateSignerKey, isValidKeyName, parseSignerKey, type SignerKey } from '../transparency/mod.ts';

/**
 * Reads the witness's cosigning key from `path` (`PRIVATE+KEY+<name>+<id>+<base64(0x04 ‖ seed)>`),
 * or, when the file does not exist, makes one named `name` (else `defaultName`) and writes it with
 * mode 0600. Refuses a key file others may read, a key of another type, and a `name` other than the key's.
 */
export async function loadOrCreateWitnessKey(
  path: string,
  o: { name?: string | undefined; defaultName?: string } = {},
): Promise<{ key: SignerKey; created: boolean }> {
  const name = o.name;
  const bad = (why: string, cause?: unknown): StkError =>
    new StkError('STK_ERR_WITNESS_KEY', `witness key ${path}: ${why}`, { path }, cause === undefined ? {} : { cause });
  if (name !== undefined && !isValidKeyName(name)) throw bad(`invalid witness name ${JSON.stringify(name)} (no spaces, no +)`);
  for (let attempt = 0; attempt < 2; attempt++) {
    let text: string;
    try {
      const st = await stat(path);
      if ((st.mode & 0o077) !== 0) throw bad(`mode ${(st.mode & 0o777).toString(8)} lets others read it; chmod 600`);
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err instanceof StkError ? err : bad('unreadable', err);
      const fresh = name ?? o.defaultName ?? 'stockade-witness';
      if (!isValidKeyName(fresh)) throw bad(`invalid witness name ${JSON.stringify(fresh)} (no spaces, no +)`);
      const key = generateSignerKey(fresh, SIG_TYPE_COSIGNATURE_V1);
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      try {
        const fh = await open(path, 'wx', 0o600);
        try {
          await fh.writeFile(`${formatSignerKey(key)}\n`, 'utf8');
          await fh.sync();
        } finally {
          await fh.close();
        }
        return { key, created: true };
      } catch (e) {
        // Another process made it first: read theirs.
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw bad('cannot be written', e);
      }
    }
    const parsed = parseSignerKey(text.trim());
    if (!parsed.ok) throw bad(parsed.reason);
    if (parsed.key.type !== SIG_TYPE_COSIGNATURE_V1) throw bad('not a cosignature (type 0x04) key');
    if (name !== undefined && parsed.key.name !== name) throw bad(`the key is named ${parsed.key.name}, not ${name}`);
    return { key: parsed.key, created: false };
  }
  throw bad('could not be created or read');
}
