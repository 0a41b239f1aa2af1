import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StkError } from './errors.ts';

/** Where things live inside the data folder. */
export function dataPaths(dataDir: string) {
  return {
    root: dataDir,
    lock: join(dataDir, 'stockade.lock'),
    run: join(dataDir, 'run.json'),
    adminKey: join(dataDir, 'admin.key'),
    level: join(dataDir, 'level'),
    nats: join(dataDir, 'nats'),
    natsStore: join(dataDir, 'nats', 'store'),
    natsPid: join(dataDir, 'nats', 'nats-server.pid'),
    pki: join(dataDir, 'pki'),
    ledger: join(dataDir, 'ledger'),
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the data folder for this process: an exclusive lock file holding our pid. A lock left by a
 * process that is gone is taken over; a live holder makes this fail with STK_ERR_DATA_LOCKED.
 */
export async function lockDataDir(dataDir: string): Promise<{ release(): void }> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const { lock } = dataPaths(dataDir);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return {
        release() {
          try {
            if (readFileSync(lock, 'utf8') === String(process.pid)) unlinkSync(lock);
          } catch {
            // already gone
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(lock, 'utf8'));
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
        throw new StkError('STK_ERR_DATA_LOCKED', `data folder ${dataDir} is in use by process ${holder}`, { dataDir, pid: holder });
      }
      unlinkSync(lock);
    }
  }
  throw new StkError('STK_ERR_DATA_LOCKED', `could not lock data folder ${dataDir}`, { dataDir });
}

/** Reads the admin API key, creating it (mode 0600) on first start; `created` tells which. */
export async function ensureAdminKey(dataDir: string): Promise<{ key: string; path: string; created: boolean }> {
  const path = dataPaths(dataDir).adminKey;
  try {
    return { key: (await readFile(path, 'utf8')).trim(), path, created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = `stk_admin_${randomBytes(32).toString('base64url')}`;
  await writeFile(path, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return { key, path, created: true };
}

/** What a running install publishes about itself, so CLI commands can find its bus. */
export interface RunInfo {
  pid: number;
  natsUrl: string;
  apiUrl?: string;
  ingressUrl?: string;
  startedAt: string;
}

export async function writeRunInfo(dataDir: string, info: RunInfo): Promise<void> {
  await writeFile(dataPaths(dataDir).run, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
}

export async function readRunInfo(dataDir: string): Promise<RunInfo | null> {
  try {
    const info = JSON.parse(await readFile(dataPaths(dataDir).run, 'utf8')) as RunInfo;
    return alive(info.pid) ? info : null;
  } catch {
    return null;
  }
}

/** Kills a nats-server left running by a previous process of this data folder that was killed hard. */
export async function reapStaleNats(dataDir: string): Promise<void> {
  const { natsPid } = dataPaths(dataDir);
  let pid = 0;
  try {
    pid = Number(readFileSync(natsPid, 'utf8'));
    if (!(pid > 0 && alive(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('nats-server'))) return;
    process.kill(pid, 'SIGKILL');
  } catch {
    return; // no pid file or no such process
  }
  // The store folder is only safe to reuse once the old server is really gone.
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
}

export async function writeNatsPid(dataDir: string, pid: number): Promise<void> {
  await writeFile(dataPaths(dataDir).natsPid, String(pid), { mode: 0o600 });
}

/**
 * This data folder's worker id for partition leases: made once, kept in `<data>/worker-id`. One
 * process at a time holds a data folder, so one process at a time holds this id, and a restarted
 * process may take back the leases its earlier life held.
 */
export async function workerIdOf(dataDir: string, role: string): Promise<string> {
  const path = join(dataDir, `worker-id-${role}`);
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const id = `${role}-${randomBytes(9).toString('base64url')}`;
  await writeFile(path, `${id}\n`, { mode: 0o600 });
  return id;
}
