import { dataDirOf } from '../config/mod.ts';
import { readFile } from 'node:fs/promises';
import { dataPaths, readRunInfo } from '../datadir.ts';
import { StkError, type ErrorCode } from '../errors.ts';

/** The operator API of the running install of `--data`, called with its admin key. */
export interface AdminApi {
  url: string;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON answer, typed by the caller
  call<T = any>(method: string, path: string, body?: unknown): Promise<T>;
}

/**
 * Finds the running install of `dataDir` (its run.json) and its admin key (STOCKADE_ADMIN_KEY or
 * `<data>/admin.key`); null when no install is running there.
 */
export async function adminApi(data: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<AdminApi | null> {
  const dataDir = dataDirOf(data);
  const info = await readRunInfo(dataDir);
  if (!info?.apiUrl) return null;
  const key = env.STOCKADE_ADMIN_KEY || (await readFile(dataPaths(dataDir).adminKey, 'utf8')).trim();
  const url = info.apiUrl;
  return {
    url,
    async call(method, path, body) {
      const res = await fetch(`${url}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const out = (await res.json()) as { error?: { code?: string; message?: string; data?: Record<string, unknown> } };
      if (!res.ok)
        throw new StkError((out?.error?.code as ErrorCode) ?? 'STK_ERR_INTERNAL', out?.error?.message ?? `HTTP ${res.status}`, out?.error?.data ?? {});
      return out as never;
    },
  };
}

/** The same, failing with a clear error when nothing runs on the data folder. */
export async function requireAdminApi(data: string | undefined): Promise<AdminApi> {
  const api = await adminApi(data);
  if (!api) throw new StkError('STK_ERR_CONFIG', `no running install with an operator API in ${dataDirOf(data)}; start \`stockade serve\` first`);
  return api;
}
