/**
 * A real Samba Active Directory domain controller for tests: provisioned into a temp folder with
 * `samba-tool domain provision`, run as `samba -i` inside a network namespace this fixture makes,
 * reachable from the test over a veth pair with a private /30.
 *
 * Why a namespace rather than a loopback address with `bind interfaces only`: the DC binds the
 * standard AD ports (389, 636, 88, 464, 3268, 3269), which would clash with any other DC, slapd
 * or helper on the machine and would need the machine's own loopback configured; inside its own
 * namespace it can bind them freely, nothing but the veth pair can reach it, and "everything this
 * DC started" is exactly `ip netns pids <ns>`, so cleanup can never miss a process or hit another.
 *
 * Needs (Debian): samba-ad-dc (samba, samba-tool), ldb-tools (ldbmodify), iproute2, util-linux
 * (setpriv). Runs as root (the sandbox does).
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'ldapts';

/** Options of a test DC; every field has a default. */
export interface SambaDcOptions {
  /** @defaultValue CORP.STOCKADE.TEST */
  realm?: string;
  /** NetBIOS domain name. @defaultValue CORP */
  domain?: string;
  /** @defaultValue a fresh random password that meets AD complexity */
  adminPassword?: string;
  /** Provisioning on a loaded 2-core machine can take a minute. @defaultValue 300000 */
  provisionTimeoutMs?: number;
  /** From start to an LDAPS answer on the root DSE. @defaultValue 180000 */
  readyTimeoutMs?: number;
}

/** A running test DC and the admin tools pointed at it. */
export interface SambaDc {
  readonly targetDir: string;
  readonly netns: string;
  /** The DC's address inside its namespace (the only address it listens on). */
  readonly address: string;
  /** The DNS name in Samba's self-signed certificate; give it as the TLS server name. */
  readonly hostName: string;
  readonly realm: string;
  readonly domain: string;
  /** `DC=corp,DC=stockade,DC=test` */
  readonly baseDn: string;
  readonly adminDn: string;
  readonly adminPassword: string;
  /** The CA certificate Samba generated under private/tls at first start. */
  readonly caFile: string;
  readonly ldapsUrl: string;
  readonly ldapUrl: string;
  readonly pid: number;
  /** `samba-tool <args>` against the running DC over LDAP (NTLM-signed), as Administrator. */
  tool(args: string[]): Promise<string>;
  /** `ldbmodify` of an LDIF against the running DC, as Administrator. */
  ldbmodify(ldif: string): Promise<string>;
  /** An ldapts client bound as Administrator over LDAPS (trusting `caFile`); the caller unbinds. */
  adminClient(): Promise<Client>;
  /** Stops the DC, removes the namespace, the veth pair and the folder. Safe to call twice. */
  stop(): Promise<void>;
}

const SAMBA_BIN = '/usr/sbin/samba';
// Names carry the owning test process's pid, so a later run can tell an orphan (its owner was
// SIGKILLed, no exit hook ran) from another live run's DC.
const NETNS_PREFIX = 'stk-dc-';
const DIR_PREFIX = 'stk-samba-';
const TOOL_TIMEOUT_MS = 120_000;

interface Resources {
  netns?: string;
  hostVeth?: string;
  targetDir?: string;
  child?: ChildProcess;
}
const live = new Set<Resources>();
let exitHookInstalled = false;

/** Last resort when the test process exits without `stop()`: synchronous, best effort. */
function cleanupSync(r: Resources): void {
  if (r.child && r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  if (r.netns) {
    for (const pid of nsPidsSync(r.netns)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    tryExecSync('ip', ['netns', 'del', r.netns]);
  }
  if (r.hostVeth) tryExecSync('ip', ['link', 'del', r.hostVeth]);
  if (r.targetDir) rmSync(r.targetDir, { recursive: true, force: true });
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const r of live) cleanupSync(r);
  });
}

function tryExecSync(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

function nsPidsSync(netns: string): number[] {
  return tryExecSync('ip', ['netns', 'pids', netns]).split(/\s+/).filter(Boolean).map(Number);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes namespaces and folders left by fixture owners that died without cleaning up. */
async function reapOrphans(): Promise<void> {
  const owner = (name: string, prefix: string): number | null => {
    const m = new RegExp(`^${prefix}(\\d+)-`).exec(name);
    return m ? Number(m[1]) : null;
  };
  for (const line of tryExecSync('ip', ['netns', 'list']).split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const pid = owner(name, NETNS_PREFIX);
    if (pid === null || pid === process.pid || pidAlive(pid)) continue;
    cleanupSync({ netns: name });
  }
  for (const name of await readdir(tmpdir())) {
    const pid = owner(name, DIR_PREFIX);
    if (pid === null || pid === process.pid || pidAlive(pid)) continue;
    await rm(join(tmpdir(), name), { recursive: true, force: true });
  }
}

/** Runs a command; rejects with its stderr and stdout when it fails or outlives `timeoutMs`. */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs ?? TOOL_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${cmd} ${args.join(' ')} failed (${err.code ?? err.signal}):\n${stderr}\n${stdout}`.slice(0, 8000), { cause: err }));
        else resolve(stdout);
      },
    );
  });
}

function requireTools(): void {
  const missing: string[] = [];
  for (const [bin, pkg] of [
    [SAMBA_BIN, 'samba-ad-dc'],
    ['/usr/bin/samba-tool', 'samba-ad-dc'],
    ['/usr/bin/ldbmodify', 'ldb-tools'],
    ['/usr/bin/setpriv', 'util-linux'],
  ] as const) {
    if (!existsSync(bin)) missing.push(`${bin} (Debian package ${pkg})`);
  }
  if (missing.length) throw new Error(`the Samba DC fixture needs: ${missing.join(', ')}`);
}

/** IPv4 a.b.c.d → 32-bit number. */
function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

/** A 10.x.y.z/30 that overlaps no address or route the host has now (the DC and the EDR namespaces use it). */
export async function pickSubnet(): Promise<{ hostAddress: string; dcAddress: string }> {
  const text = `${await run('ip', ['-o', '-4', 'addr', 'show'])}\n${await run('ip', ['-4', 'route', 'show', 'table', 'all'])}`;
  const taken = [...text.matchAll(/(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?/g)].map((m) => {
    const bits = Number(m[2] ?? 32);
    const size = 2 ** (32 - bits);
    const start = Math.floor(ipToInt(m[1]!) / size) * size;
    return [start, start + size - 1] as const;
  });
  for (let attempt = 0; attempt < 100; attempt++) {
    const b = 64 + randomInt(190);
    const c = randomInt(256);
    const d = randomInt(64) * 4;
    const start = ipToInt(`10.${b}.${c}.${d}`);
    if (taken.some(([lo, hi]) => start <= hi && start + 3 >= lo)) continue;
    return { hostAddress: `10.${b}.${c}.${d + 1}`, dcAddress: `10.${b}.${c}.${d + 2}` };
  }
  throw new Error('no free 10.x /30 found for the DC namespace');
}

/** Adds (or replaces) settings in the [global] section of a generated smb.conf. */
function withGlobals(conf: string, settings: Record<string, string>): string {
  const start = conf.indexOf('[global]');
  if (start < 0) throw new Error('smb.conf has no [global] section');
  const bodyStart = conf.indexOf('\n', start) + 1;
  const next = conf.indexOf('\n[', bodyStart);
  const bodyEnd = next < 0 ? conf.length : next + 1;
  const keys = new Set(Object.keys(settings).map((k) => k.toLowerCase()));
  const kept = conf
    .slice(bodyStart, bodyEnd)
    .split('\n')
    .filter((line) => !keys.has(line.split('=')[0]!.trim().toLowerCase()));
  const added = Object.entries(settings).map(([k, v]) => `\t${k} = ${v}`);
  return `${conf.slice(0, bodyStart)}${added.join('\n')}\n${kept.join('\n')}${conf.slice(bodyEnd)}`;
}

function defaultPassword(): string {
  // Upper, lower, digit and symbol: Samba's default complexity policy.
  return `Stk-${randomBytes(9).toString('base64url')}-9a`;
}

/**
 * Provisions a fresh AD domain (RFC 2307 attributes on) in a temp folder and starts its DC in a
 * namespace of its own; resolves once LDAPS answers with Samba's own certificate. Cleans up
 * everything it made if any step fails.
 */
export async function startSambaDc(options: SambaDcOptions = {}): Promise<SambaDc> {
  requireTools();
  installExitHook();
  const realm = options.realm ?? 'CORP.STOCKADE.TEST';
  const domain = options.domain ?? 'CORP';
  const adminPassword = options.adminPassword ?? defaultPassword();
  const dnsDomain = realm.toLowerCase();
  const baseDn = dnsDomain
    .split('.')
    .map((p) => `DC=${p}`)
    .join(',');
  const tag = randomBytes(3).toString('hex');
  const res: Resources = {};
  live.add(res);
  const lastLines: string[] = [];

  try {
    await reapOrphans();
    res.targetDir = await mkdtemp(join(tmpdir(), `${DIR_PREFIX}${process.pid}-`));
    const dir = res.targetDir;
    await run(
      'samba-tool',
      [
        'domain',
        'provision',
        `--targetdir=${dir}`,
        `--realm=${realm}`,
        `--domain=${domain}`,
        `--adminpass=${adminPassword}`,
        '--server-role=dc',
        '--use-rfc2307',
        // No DNS server: the test reaches the DC by address, and port 53 work would only cost time.
        '--dns-backend=NONE',
        '--host-name=dc1',
      ],
      { timeoutMs: options.provisionTimeoutMs ?? 300_000 },
    );

    const { hostAddress, dcAddress } = await pickSubnet();
    res.netns = `${NETNS_PREFIX}${process.pid}-${tag}`;
    res.hostVeth = `stkdc${tag}h`;
    const nsVeth = `stkdc${tag}n`;
    await run('ip', ['netns', 'add', res.netns]);
    await run('ip', ['link', 'add', res.hostVeth, 'type', 'veth', 'peer', 'name', nsVeth]);
    await run('ip', ['link', 'set', nsVeth, 'netns', res.netns]);
    await run('ip', ['addr', 'add', `${hostAddress}/30`, 'dev', res.hostVeth]);
    await run('ip', ['link', 'set', res.hostVeth, 'up']);
    await run('ip', ['netns', 'exec', res.netns, 'ip', 'addr', 'add', `${dcAddress}/30`, 'dev', nsVeth]);
    await run('ip', ['netns', 'exec', res.netns, 'ip', 'link', 'set', nsVeth, 'up']);
    await run('ip', ['netns', 'exec', res.netns, 'ip', 'link', 'set', 'lo', 'up']);

    // Everything the DC writes stays in the target folder (the generated file still points logs,
    // pid files and sockets at /var and /run, shared with any samba on the machine), it listens
    // only on the namespace's veth, and it runs just the LDAP and Kerberos services.
    const confPath = join(dir, 'etc', 'smb.conf');
    for (const sub of ['run', 'log', 'usershares']) await mkdir(join(dir, sub), { recursive: true });
    const conf = withGlobals(await readFile(confPath, 'utf8'), {
      'server services': 'ldap, kdc',
      interfaces: nsVeth,
      'bind interfaces only': 'yes',
      'log file': join(dir, 'log', 'log.%m'),
      'pid directory': join(dir, 'run'),
      'ncalrpc dir': join(dir, 'run', 'ncalrpc'),
      'winbindd socket directory': join(dir, 'run', 'winbindd'),
      'ntp signd socket directory': join(dir, 'run', 'ntp_signd'),
      'usershare path': join(dir, 'usershares'),
      'panic action': '',
    });
    await writeFile(confPath, conf);

    // `ip netns exec` and setpriv exec in place, so the child is samba itself. Its stdin is a pipe
    // we hold: an interactive samba ends when stdin closes, i.e. when this process dies however it
    // dies; pdeathsig and --maximum-runtime are two more nets under that.
    res.child = spawn(
      'ip',
      [
        'netns',
        'exec',
        res.netns,
        '/usr/bin/setpriv',
        '--pdeathsig',
        'KILL',
        '--',
        SAMBA_BIN,
        '-i',
        '-M',
        'single',
        '--maximum-runtime=3600',
        `--configfile=${confPath}`,
        '--debuglevel=1',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'], detached: true },
    );
    const child = res.child;
    const onData = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        lastLines.push(line);
        if (lastLines.length > 200) lastLines.shift();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

    const caFile = join(dir, 'private', 'tls', 'ca.pem');
    const hostName = `dc1.${dnsDomain}`;
    await waitForLdaps({ address: dcAddress, caFile, hostName, exited, deadlineMs: Date.now() + (options.readyTimeoutMs ?? 180_000), lastLines });

    const adminDn = `CN=Administrator,CN=Users,${baseDn}`;
    const toolEnv = { PASSWD: adminPassword };
    const dc: SambaDc = {
      targetDir: dir,
      netns: res.netns,
      address: dcAddress,
      hostName,
      realm,
      domain,
      baseDn,
      adminDn,
      adminPassword,
      caFile,
      ldapsUrl: `ldaps://${dcAddress}:636`,
      ldapUrl: `ldap://${dcAddress}:389`,
      pid: child.pid!,
      tool: (args) => run('samba-tool', [...args, '-H', `ldap://${dcAddress}`, '-U', 'Administrator', `--configfile=${confPath}`], { env: toolEnv }),
      async ldbmodify(ldif) {
        const file = join(dir, `change-${randomBytes(4).toString('hex')}.ldif`);
        await writeFile(file, ldif);
        try {
          return await run('ldbmodify', ['-H', `ldap://${dcAddress}`, '-U', 'Administrator', `--configfile=${confPath}`, file], { env: toolEnv });
        } finally {
          await rm(file, { force: true });
        }
      },
      async adminClient() {
        const client = new Client({ url: `ldaps://${dcAddress}:636`, tlsOptions: { ca: await readFile(caFile), servername: hostName }, timeout: 60_000 });
        try {
          await client.bind(adminDn, adminPassword);
        } catch (err) {
          await client.unbind().catch(() => {});
          throw err;
        }
        return client;
      },
      stop: () => stopResources(res, exited),
    };
    return dc;
  } catch (err) {
    await stopResources(res, null);
    throw new Error(`Samba DC did not start: ${(err as Error).message}\nlast samba output:\n${lastLines.slice(-30).join('\n')}`, { cause: err });
  }
}

/** Polls the root DSE over LDAPS (Samba writes its CA at first start) until it answers. */
async function waitForLdaps(o: {
  address: string;
  caFile: string;
  hostName: string;
  exited: Promise<void>;
  deadlineMs: number;
  lastLines: string[];
}): Promise<void> {
  let gone = false;
  void o.exited.then(() => {
    gone = true;
  });
  let lastError: unknown = null;
  while (Date.now() < o.deadlineMs) {
    if (gone) throw new Error('samba exited during start-up');
    if (existsSync(o.caFile)) {
      const client = new Client({
        url: `ldaps://${o.address}:636`,
        tlsOptions: { ca: await readFile(o.caFile), servername: o.hostName },
        connectTimeout: 5_000,
        timeout: 10_000,
      });
      try {
        const { searchEntries } = await client.search('', { scope: 'base', attributes: ['defaultNamingContext'] });
        if (searchEntries[0]?.defaultNamingContext) return;
      } catch (err) {
        lastError = err;
      } finally {
        await client.unbind().catch(() => {});
      }
    }
    // A poll interval, not a wait for an outcome: each round asks the DC itself.
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`LDAPS did not answer within the deadline (last error: ${(lastError as Error)?.message ?? 'none'})`);
}

async function stopResources(res: Resources, exited: Promise<void> | null): Promise<void> {
  const child = res.child;
  if (child && child.exitCode === null && child.signalCode === null) {
    const done = exited ?? new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await done;
    clearTimeout(timer);
  }
  child?.stdin?.destroy();
  if (res.netns) {
    // Anything samba left behind in its namespace (it should leave nothing).
    for (const pid of nsPidsSync(res.netns)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await run('ip', ['netns', 'del', res.netns]).catch(() => {});
  }
  // Deleting the namespace deletes its end of the pair and so the pair; this is for a failure
  // between creating the pair and moving one end into the namespace.
  if (res.hostVeth && tryExecSync('ip', ['-o', 'link', 'show', res.hostVeth])) await run('ip', ['link', 'del', res.hostVeth]).catch(() => {});
  if (res.targetDir) await rm(res.targetDir, { recursive: true, force: true });
  live.delete(res);
  delete res.child;
  delete res.netns;
  delete res.hostVeth;
  delete res.targetDir;
}
