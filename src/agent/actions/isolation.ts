import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { type ActionResult, describeRun, failed, runDetails, runTool, succeeded } from './result.ts';

/** The one nftables table isolation owns; release deletes this table and nothing else. */
export const ISOLATION_TABLE = 'stockade_isolation';

/** Where the agent reaches its ingress: the only traffic an isolated host keeps. */
export interface IngressEndpoint {
  addresses: string[];
  port: number;
}

/** Options of the isolation actions. */
export interface IsolationOptions {
  /** The nft binary. @defaultValue 'nft' */
  nft?: string;
  timeoutMs?: number;
}

/** `ip` or `ip6` selector of a set of addresses of one family. */
function match(family: 4 | 6, dir: 'saddr' | 'daddr', addrs: string[]): string {
  return `${family === 4 ? 'ip' : 'ip6'} ${dir} { ${addrs.join(', ')} }`;
}

/**
 * The nftables ruleset of an isolated host: in, only loopback and replies from the ingress; out,
 * only loopback and the ingress port; nothing forwarded. Outgoing packets are refused with a TCP
 * reset or an ICMP "administratively prohibited" instead of silently dropped — they never leave
 * the host either way, and local programs fail at once instead of hanging in connect() (the
 * agent's own retries included). Incoming packets are dropped. Neighbour discovery stays allowed,
 * or an IPv6 ingress would become unreachable within minutes.
 */
export function isolationRuleset(ingress: IngressEndpoint): string {
  const v4 = ingress.addresses.filter((a) => isIP(a) === 4);
  const v6 = ingress.addresses.filter((a) => isIP(a) === 6);
  const inAllow = [
    ...(v4.length ? [`${match(4, 'saddr', v4)} tcp sport ${ingress.port} ct state established,related accept`] : []),
    ...(v6.length ? [`${match(6, 'saddr', v6)} tcp sport ${ingress.port} ct state established,related accept`] : []),
  ];
  const outAllow = [
    ...(v4.length ? [`${match(4, 'daddr', v4)} tcp dport ${ingress.port} accept`] : []),
    ...(v6.length ? [`${match(6, 'daddr', v6)} tcp dport ${ingress.port} accept`] : []),
  ];
  const nd = 'icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept';
  return [
    // Declaring then deleting makes the replacement one atomic transaction whether or not the table exists.
    `table inet ${ISOLATION_TABLE}`,
    `delete table inet ${ISOLATION_TABLE}`,
    `table inet ${ISOLATION_TABLE} {`,
    '  chain input {',
    '    type filter hook input priority filter - 10; policy drop;',
    '    iifname "lo" accept',
    `    ${nd}`,
    ...inAllow.map((r) => `    ${r}`),
    '    counter comment "stockade isolation: dropped in"',
    '  }',
    '  chain output {',
    '    type filter hook output priority filter - 10; policy drop;',
    '    oifname "lo" accept',
    `    ${nd}`,
    ...outAllow.map((r) => `    ${r}`),
    '    meta l4proto tcp counter reject with tcp reset comment "stockade isolation: refused out"',
    '    counter reject with icmpx admin-prohibited comment "stockade isolation: refused out"',
    '  }',
    '  chain forward {',
    '    type filter hook forward priority filter - 10; policy drop;',
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Whether the isolation table is there now (`nft list table`); `isolated` is null when nft could not say. */
export async function isolationState(o: IsolationOptions = {}): Promise<{ isolated: boolean | null; ruleset: string | null; error: string | null }> {
  const r = await runTool(o.nft ?? 'nft', ['list', 'table', 'inet', ISOLATION_TABLE], { timeoutMs: o.timeoutMs ?? 30_000 });
  if (r.exitCode === 0) return { isolated: true, ruleset: r.stdout, error: null };
  if (r.exitCode === 1 && /No such file or directory/.test(r.stderr)) return { isolated: false, ruleset: null, error: null };
  return { isolated: null, ruleset: null, error: describeRun(r) };
}

/**
 * `isolate-host {ingressHost, ingressPort}`: loads the isolation table so the host talks only to
 * its ingress (a name is resolved now, before DNS is cut off). Isolating an isolated host
 * replaces the table (a new ingress address takes effect) and succeeds.
 */
export async function isolateHost(args: { ingressHost: unknown; ingressPort: unknown }, o: IsolationOptions = {}): Promise<ActionResult> {
  const { ingressHost, ingressPort } = args;
  if (typeof ingressHost !== 'string' || ingressHost === '' || ingressHost.length > 253) return failed('refused: ingressHost must be a host name or address');
  if (typeof ingressPort !== 'number' || !Number.isInteger(ingressPort) || ingressPort < 1 || ingressPort > 65535)
    return failed('refused: ingressPort must be an integer from 1 to 65535');
  let addresses: string[];
  if (isIP(ingressHost)) addresses = [ingressHost];
  else {
    try {
      addresses = [...new Set((await lookup(ingressHost, { all: true })).map((a) => a.address))];
    } catch (err) {
      return failed(`refused: cannot resolve ${ingressHost} (${(err as NodeJS.ErrnoException).code ?? err}); isolating would cut the agent off`, {
        ingressHost,
      });
    }
  }
  const before = await isolationState(o);
  const ruleset = isolationRuleset({ addresses, port: ingressPort });
  const r = await runTool(o.nft ?? 'nft', ['-f', '-'], { input: ruleset, timeoutMs: o.timeoutMs ?? 30_000 });
  const details = { ingressHost, ingressPort, addresses, table: `inet ${ISOLATION_TABLE}`, ruleset, run: runDetails(r) };
  if (r.exitCode !== 0) return failed(describeRun(r), details);
  const after = await isolationState(o);
  if (after.isolated !== true) return failed(`nft accepted the ruleset but the table is not there: ${after.error ?? 'not listed'}`, details);
  const what = before.isolated ? 'was already isolated; isolation table replaced' : 'isolated';
  return succeeded(`${what}: only ${addresses.join(', ')} port ${ingressPort} is reachable\n${describeRun(r)}`, { ...details, active: after.ruleset });
}

/** `release-host`: deletes the isolation table (and only it). Releasing a host that is not isolated succeeds. */
export async function releaseHost(o: IsolationOptions = {}): Promise<ActionResult> {
  const before = await isolationState(o);
  if (before.isolated === null) return failed(`cannot tell whether the host is isolated: ${before.error}`, { table: `inet ${ISOLATION_TABLE}` });
  if (!before.isolated) return succeeded('not isolated: nothing to release', { table: `inet ${ISOLATION_TABLE}`, wasIsolated: false });
  const r = await runTool(o.nft ?? 'nft', ['delete', 'table', 'inet', ISOLATION_TABLE], { timeoutMs: o.timeoutMs ?? 30_000 });
  const details = { table: `inet ${ISOLATION_TABLE}`, wasIsolated: true, run: runDetails(r) };
  if (r.exitCode !== 0) return failed(describeRun(r), details);
  return succeeded(`released\n${describeRun(r)}`, details);
}
