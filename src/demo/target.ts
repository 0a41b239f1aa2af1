// The install the demo fills: its operator API with the admin key, and its ingress with the CA that
// agents pin. Found from a running install's data folder, or given piece by piece for another host.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { dataDirOf } from '../config/mod.ts';
import { dataPaths, readRunInfo } from '../datadir.ts';
import { StkError } from '../errors.ts';

/** Where the demo sends what it makes. */
export interface DemoTarget {
  /** Base URL of the operator API (without `/api/v1`). */
  api: string;
  adminKey: string;
  /** The ingress as agents reach it. */
  ingressUrl: string;
  /** The install's CA certificate (PEM): the only trust anchor of the demo's agents. */
  caPem: string;
}

async function readText(path: string, what: string): Promise<string> {
  try {
    const text = (await readFile(path, 'utf8')).trim();
    if (!text) throw new StkError('STK_ERR_CONFIG', `${path} (${what}) is empty`, { path });
    return text;
  } catch (err) {
    if (err instanceof StkError) throw err;
    throw new StkError('STK_ERR_CONFIG', `cannot read ${what} from ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`, { path }, { cause: err });
  }
}

/** The running install of a data folder: its run.json (API and ingress addresses), admin key and CA. */
export async function targetOfDataDir(data: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<DemoTarget> {
  const dir = dataDirOf(data, env);
  const info = await readRunInfo(dir);
  if (!info?.apiUrl || !info.ingressUrl)
    throw new StkError('STK_ERR_CONFIG', `no running install with an operator API and an ingress in ${dir}; start \`stockade serve\` first, or give --api`, {
      dir,
    });
  const p = dataPaths(dir);
  return {
    api: info.apiUrl,
    adminKey: env.STOCKADE_ADMIN_KEY || (await readText(p.adminKey, 'the admin key')),
    ingressUrl: info.ingressUrl,
    caPem: await readText(join(p.pki, 'ca.crt'), "the install's CA certificate"),
  };
}

/** An install on another host: every piece named (`--api`, `--admin-key-file`, `--ingress`, `--ca`). */
export async function targetOfFlags(f: { api?: string; adminKeyFile?: string; ingress?: string; ca?: string }): Promise<DemoTarget> {
  const missing = [!f.adminKeyFile && '--admin-key-file', !f.ingress && '--ingress', !f.ca && '--ca'].filter(Boolean);
  if (missing.length) throw new StkError('STK_ERR_CONFIG', `--api needs ${missing.join(', ')} as well`, { field: String(missing[0]) });
  for (const [flag, url] of [
    ['--api', f.api!],
    ['--ingress', f.ingress!],
  ] as const) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new StkError('STK_ERR_CONFIG', `${flag} is not a URL: ${url}`, { field: flag });
    }
    if (flag === '--ingress' && u.protocol !== 'https:') throw new StkError('STK_ERR_CONFIG', '--ingress must be an https:// URL', { field: flag });
  }
  return {
    api: f.api!.replace(/\/+$/, ''),
    adminKey: await readText(resolve(f.adminKeyFile!), 'the admin key'),
    ingressUrl: f.ingress!.replace(/\/+$/, ''),
    caPem: await readText(resolve(f.ca!), "the install's CA certificate"),
  };
}
