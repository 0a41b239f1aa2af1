// What each kind of demo host runs: its distribution, daemons, listening ports, service accounts,
// packages and pending updates, and what a network scan sees of it. Data only; book.ts draws from it.
import type { InstalledPackage, PendingUpgrade } from '../agent/patch/inventory.ts';

export type HostRole = 'web' | 'db' | 'mail' | 'build' | 'dc' | 'legacy' | 'file' | 'app' | 'vpn' | 'jump';

/** The roles a smaller customer's extra hosts are drawn from (every customer has a web host). */
export const EXTRA_ROLES: readonly HostRole[] = ['db', 'file', 'mail', 'app', 'vpn', 'jump', 'build'];
/** The flagship customer's hosts: every part of the story has a place. */
export const FLAGSHIP_ROLES: readonly HostRole[] = ['web', 'db', 'mail', 'build', 'dc', 'legacy'];

export interface OsRelease {
  /** The enrollment's `os` fact. */
  label: string;
  kernel: string;
  release: { id: string; versionId: string; codename: string; prettyName: string };
}

export const OSES = {
  debian12: {
    label: 'debian 12',
    kernel: '6.1.0-18-amd64',
    release: { id: 'debian', versionId: '12', codename: 'bookworm', prettyName: 'Debian GNU/Linux 12 (bookworm)' },
  },
  ubuntu2204: {
    label: 'ubuntu 22.04',
    kernel: '5.15.0-105-generic',
    release: { id: 'ubuntu', versionId: '22.04', codename: 'jammy', prettyName: 'Ubuntu 22.04.4 LTS' },
  },
  debian11: {
    label: 'debian 11',
    kernel: '5.10.0-28-amd64',
    release: { id: 'debian', versionId: '11', codename: 'bullseye', prettyName: 'Debian GNU/Linux 11 (bullseye)' },
  },
} as const satisfies Record<string, OsRelease>;
export type OsKey = keyof typeof OSES;

/** A long-running process of a role: started at boot (parent systemd) unless it names a parent. */
export interface Daemon {
  exe: string;
  name: string;
  user: string;
  uid: number;
  cmdline: string;
}

/** A port the host listens on, with the process behind it and what a scan reads from it. */
export interface Listener {
  protocol: 'tcp' | 'udp';
  port: number;
  daemon: string;
  /** First bytes the service sends (SSH, SMTP, FTP…). */
  banner?: string;
  /** `HEAD /` answer. */
  http?: { status: string; server?: string };
  /** A TLS endpoint: its profile and certificate kind (filled per host by book.ts). */
  tls?: 'modern' | 'legacy';
  cert?: 'public' | 'expiring' | 'self-signed-weak' | 'internal';
}

/** A local account a role adds (besides root, the system accounts and the customer's admins). */
export interface ServiceAccount {
  name: string;
  uid: number;
  home: string;
  shell: string;
  groups: string[];
  sudoNoPassword?: boolean;
}

export interface RoleTemplate {
  os: OsKey;
  daemons: Daemon[];
  listeners: Listener[];
  accounts: ServiceAccount[];
  /** Packages beyond the distribution's base set: `name` or `name=version`. */
  packages: string[];
  cpus: number;
  memoryGiB: number;
}

const SSHD: Daemon = { exe: '/usr/sbin/sshd', name: 'sshd', user: 'root', uid: 0, cmdline: 'sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups' };
const CRON: Daemon = { exe: '/usr/sbin/cron', name: 'cron', user: 'root', uid: 0, cmdline: '/usr/sbin/cron -f' };
const RSYSLOG: Daemon = { exe: '/usr/sbin/rsyslogd', name: 'rsyslogd', user: 'root', uid: 0, cmdline: '/usr/sbin/rsyslogd -n -iNONE' };
const SSH_LISTEN = (banner: string): Listener => ({ protocol: 'tcp', port: 22, daemon: 'sshd', banner });
const OPENSSH_12 = 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u2';
const OPENSSH_22 = 'SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.7';

export const ROLE_TEMPLATES: Record<HostRole, RoleTemplate> = {
  web: {
    os: 'debian12',
    daemons: [
      { exe: '/usr/sbin/nginx', name: 'nginx', user: 'root', uid: 0, cmdline: 'nginx: master process /usr/sbin/nginx -g daemon on; master_process on;' },
      { exe: '/usr/sbin/php-fpm8.2', name: 'php-fpm8.2', user: 'root', uid: 0, cmdline: 'php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)' },
    ],
    listeners: [
      SSH_LISTEN(OPENSSH_12),
      { protocol: 'tcp', port: 80, daemon: 'nginx', http: { status: 'HTTP/1.1 301 Moved Permanently', server: 'nginx/1.22.1' } },
      { protocol: 'tcp', port: 443, daemon: 'nginx', http: { status: 'HTTP/1.1 200 OK', server: 'nginx/1.22.1' }, tls: 'modern', cert: 'public' },
    ],
    accounts: [{ name: 'deploy', uid: 1010, home: '/home/deploy', shell: '/bin/bash', groups: ['www-data'], sudoNoPassword: true }],
    packages: ['nginx=1.22.1-9', 'php8.2-fpm=8.2.7-1~deb12u1', 'certbot=2.1.0-4'],
    cpus: 4,
    memoryGiB: 8,
  },
  db: {
    os: 'debian12',
    daemons: [
      {
        exe: '/usr/lib/postgresql/15/bin/postgres',
        name: 'postgres',
        user: 'postgres',
        uid: 108,
        cmdline: '/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main',
      },
    ],
    listeners: [SSH_LISTEN(OPENSSH_12), { protocol: 'tcp', port: 5432, daemon: 'postgres' }],
    accounts: [{ name: 'postgres', uid: 108, home: '/var/lib/postgresql', shell: '/bin/bash', groups: ['ssl-cert'] }],
    packages: ['postgresql-15=15.5-0+deb12u1'],
    cpus: 8,
    memoryGiB: 32,
  },
  mail: {
    os: 'debian12',
    daemons: [
      { exe: '/usr/lib/postfix/sbin/master', name: 'master', user: 'root', uid: 0, cmdline: '/usr/lib/postfix/sbin/master -w' },
      { exe: '/usr/sbin/dovecot', name: 'dovecot', user: 'root', uid: 0, cmdline: '/usr/sbin/dovecot -F' },
    ],
    listeners: [
      SSH_LISTEN(OPENSSH_12),
      { protocol: 'tcp', port: 25, daemon: 'master', banner: '220 {fqdn} ESMTP Postfix (Debian/GNU)' },
      { protocol: 'tcp', port: 993, daemon: 'dovecot', tls: 'modern', cert: 'expiring' },
    ],
    accounts: [],
    packages: ['postfix=3.7.10-0+deb12u1', 'dovecot-imapd=1:2.3.19.1+dfsg1-2.1'],
    cpus: 2,
    memoryGiB: 4,
  },
  build: {
    os: 'ubuntu2204',
    daemons: [
      {
        exe: '/usr/lib/jvm/java-17-openjdk-amd64/bin/java',
        name: 'java',
        user: 'jenkins',
        uid: 114,
        cmdline: '/usr/bin/java -Djava.awt.headless=true -jar /usr/share/java/jenkins.war --httpPort=8080',
      },
      { exe: '/usr/bin/dockerd', name: 'dockerd', user: 'root', uid: 0, cmdline: '/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock' },
    ],
    listeners: [SSH_LISTEN(OPENSSH_22), { protocol: 'tcp', port: 8080, daemon: 'java', http: { status: 'HTTP/1.1 403 Forbidden', server: 'Jetty(10.0.18)' } }],
    accounts: [{ name: 'jenkins', uid: 114, home: '/var/lib/jenkins', shell: '/bin/bash', groups: ['docker'] }],
    packages: ['docker.io=24.0.7-0ubuntu2~22.04.1', 'openjdk-17-jre-headless=17.0.10+7-1~22.04.1'],
    cpus: 8,
    memoryGiB: 16,
  },
  dc: {
    os: 'debian12',
    daemons: [{ exe: '/usr/sbin/samba', name: 'samba', user: 'root', uid: 0, cmdline: 'samba: root process' }],
    listeners: [
      SSH_LISTEN(OPENSSH_12),
      { protocol: 'tcp', port: 88, daemon: 'samba' },
      { protocol: 'tcp', port: 389, daemon: 'samba' },
      { protocol: 'tcp', port: 445, daemon: 'samba' },
      { protocol: 'tcp', port: 636, daemon: 'samba', tls: 'modern', cert: 'internal' },
    ],
    accounts: [],
    packages: ['samba=2:4.17.12+dfsg-0+deb12u1', 'winbind=2:4.17.12+dfsg-0+deb12u1'],
    cpus: 2,
    memoryGiB: 4,
  },
  legacy: {
    os: 'debian11',
    daemons: [
      { exe: '/opt/erp/bin/erpd', name: 'erpd', user: 'erp', uid: 1500, cmdline: '/opt/erp/bin/erpd --config /etc/erp/erpd.conf' },
      { exe: '/usr/sbin/inetutils-inetd', name: 'inetutils-inetd', user: 'root', uid: 0, cmdline: '/usr/sbin/inetutils-inetd' },
    ],
    listeners: [
      SSH_LISTEN('SSH-2.0-OpenSSH_8.4p1 Debian-5+deb11u3'),
      { protocol: 'tcp', port: 23, daemon: 'inetutils-inetd', banner: 'Debian GNU/Linux 11\\r\\nlogin: ' },
      {
        protocol: 'tcp',
        port: 8443,
        daemon: 'erpd',
        http: { status: 'HTTP/1.1 200 OK', server: 'Apache/2.4.49 (Unix)' },
        tls: 'legacy',
        cert: 'self-signed-weak',
      },
    ],
    accounts: [
      { name: 'erp', uid: 1500, home: '/opt/erp', shell: '/bin/sh', groups: [] },
      { name: 'svc-legacy', uid: 1501, home: '/home/svc-legacy', shell: '/bin/bash', groups: [] },
    ],
    packages: ['openjdk-11-jre-headless=11.0.22+7-1~deb11u1', 'inetutils-telnetd=2:2.0-1+deb11u2'],
    cpus: 2,
    memoryGiB: 8,
  },
  file: {
    os: 'debian12',
    daemons: [{ exe: '/usr/sbin/smbd', name: 'smbd', user: 'root', uid: 0, cmdline: '/usr/sbin/smbd --foreground --no-process-group' }],
    listeners: [SSH_LISTEN(OPENSSH_12), { protocol: 'tcp', port: 139, daemon: 'smbd' }, { protocol: 'tcp', port: 445, daemon: 'smbd' }],
    accounts: [],
    packages: ['samba=2:4.17.12+dfsg-0+deb12u1'],
    cpus: 4,
    memoryGiB: 8,
  },
  app: {
    os: 'ubuntu2204',
    daemons: [{ exe: '/usr/bin/node', name: 'node', user: 'app', uid: 1200, cmdline: 'node /srv/app/server.js' }],
    listeners: [SSH_LISTEN(OPENSSH_22), { protocol: 'tcp', port: 3000, daemon: 'node', http: { status: 'HTTP/1.1 200 OK', server: 'Express' } }],
    accounts: [{ name: 'app', uid: 1200, home: '/srv/app', shell: '/usr/sbin/nologin', groups: [] }],
    packages: ['nodejs=18.19.1+dfsg-1ubuntu1'],
    cpus: 4,
    memoryGiB: 8,
  },
  vpn: {
    os: 'debian12',
    daemons: [{ exe: '/usr/sbin/openvpn', name: 'openvpn', user: 'nobody', uid: 65534, cmdline: '/usr/sbin/openvpn --config /etc/openvpn/server/office.conf' }],
    listeners: [SSH_LISTEN(OPENSSH_12), { protocol: 'udp', port: 1194, daemon: 'openvpn' }],
    accounts: [],
    packages: ['openvpn=2.6.3-1+deb12u2'],
    cpus: 2,
    memoryGiB: 2,
  },
  jump: {
    os: 'debian12',
    daemons: [],
    listeners: [SSH_LISTEN(OPENSSH_12)],
    accounts: [],
    packages: ['tmux=3.3a-3'],
    cpus: 2,
    memoryGiB: 2,
  },
};

/** Every host has these processes besides its role's. */
export const BASE_DAEMONS: readonly Daemon[] = [SSHD, CRON, RSYSLOG];

/** The distribution's base packages present on every host of an OS (name, version, source when it differs). */
const BASE_PACKAGES: Record<OsKey, string[]> = {
  debian12: [
    'base-files=12.4+deb12u5',
    'bash=5.2.15-2+b2',
    'coreutils=9.1-1',
    'curl=7.88.1-10+deb12u5',
    'libcurl4=7.88.1-10+deb12u5@curl',
    'libc6=2.36-9+deb12u4@glibc',
    'libssl3=3.0.11-1~deb12u2@openssl',
    'openssl=3.0.11-1~deb12u2',
    'linux-image-amd64=6.1.76-1@linux-signed-amd64',
    'openssh-server=1:9.2p1-2+deb12u2@openssh',
    'sudo=1.9.13p3-1+deb12u1',
    'systemd=252.22-1~deb12u1',
    'tzdata=2024a-0+deb12u1',
    'rsyslog=8.2302.0-1',
    'cron=3.0pl1-162',
  ],
  ubuntu2204: [
    'base-files=12ubuntu4.6',
    'bash=5.1-6ubuntu1.1',
    'coreutils=8.32-4.1ubuntu1.1',
    'curl=7.81.0-1ubuntu1.15',
    'libcurl4=7.81.0-1ubuntu1.15@curl',
    'libc6=2.35-0ubuntu3.6@glibc',
    'libssl3=3.0.2-0ubuntu1.14@openssl',
    'openssl=3.0.2-0ubuntu1.14',
    'linux-image-generic=5.15.0.105.102@linux-meta',
    'openssh-server=1:8.9p1-3ubuntu0.7@openssh',
    'sudo=1.9.9-1ubuntu2.4',
    'systemd=249.11-0ubuntu3.12',
    'tzdata=2024a-0ubuntu0.22.04',
    'rsyslog=8.2112.0-2ubuntu2.2',
    'cron=3.0pl1-137ubuntu3',
  ],
  debian11: [
    'base-files=11.1+deb11u9',
    'bash=5.1-2+deb11u1',
    'coreutils=8.32-4+b1',
    'curl=7.74.0-1.3+deb11u11',
    'libcurl4=7.74.0-1.3+deb11u11@curl',
    'libc6=2.31-13+deb11u8@glibc',
    'libssl1.1=1.1.1w-0+deb11u1@openssl',
    'openssl=1.1.1w-0+deb11u1',
    'linux-image-amd64=5.10.209-2@linux-signed-amd64',
    'openssh-server=1:8.4p1-5+deb11u3@openssh',
    'sudo=1.9.5p2-3+deb11u1',
    'systemd=247.3-7+deb11u4',
    'tzdata=2024a-0+deb11u1',
    'rsyslog=8.2102.0-2+deb11u1',
    'cron=3.0pl1-137',
  ],
};

/** An update the archives offer: the package, the version it goes to, security or not, CVE ids. */
interface UpdateOffer {
  package: string;
  to: string;
  security: boolean;
  cves: string[];
  /** Needs a reboot once installed. */
  reboot?: boolean;
}

/** Updates offered per OS; which of them a host still lacks is drawn per host. */
export const UPDATE_OFFERS: Record<OsKey, UpdateOffer[]> = {
  debian12: [
    { package: 'openssl', to: '3.0.15-1~deb12u1', security: true, cves: ['CVE-2024-5535', 'CVE-2024-6119'] },
    { package: 'libssl3', to: '3.0.15-1~deb12u1', security: true, cves: ['CVE-2024-5535', 'CVE-2024-6119'] },
    { package: 'curl', to: '7.88.1-10+deb12u8', security: true, cves: ['CVE-2024-2398', 'CVE-2024-7264'] },
    { package: 'libcurl4', to: '7.88.1-10+deb12u8', security: true, cves: ['CVE-2024-2398', 'CVE-2024-7264'] },
    { package: 'openssh-server', to: '1:9.2p1-2+deb12u3', security: true, cves: ['CVE-2024-6387'] },
    { package: 'libc6', to: '2.36-9+deb12u8', security: true, cves: ['CVE-2024-2961', 'CVE-2024-33599'] },
    { package: 'linux-image-amd64', to: '6.1.112-1', security: true, cves: ['CVE-2024-1086', 'CVE-2024-26925'], reboot: true },
    { package: 'tzdata', to: '2024b-0+deb12u1', security: false, cves: [] },
    { package: 'systemd', to: '252.30-1~deb12u2', security: false, cves: [] },
  ],
  ubuntu2204: [
    { package: 'openssl', to: '3.0.2-0ubuntu1.18', security: true, cves: ['CVE-2024-5535', 'CVE-2024-6119'] },
    { package: 'libssl3', to: '3.0.2-0ubuntu1.18', security: true, cves: ['CVE-2024-5535', 'CVE-2024-6119'] },
    { package: 'curl', to: '7.81.0-1ubuntu1.18', security: true, cves: ['CVE-2024-7264'] },
    { package: 'libcurl4', to: '7.81.0-1ubuntu1.18', security: true, cves: ['CVE-2024-7264'] },
    { package: 'sudo', to: '1.9.9-1ubuntu2.5', security: true, cves: ['CVE-2023-42465'] },
    { package: 'libc6', to: '2.35-0ubuntu3.8', security: true, cves: ['CVE-2024-2961'] },
    { package: 'tzdata', to: '2024a-0ubuntu0.22.04.1', security: false, cves: [] },
  ],
  debian11: [
    { package: 'openssl', to: '1.1.1w-0+deb11u2', security: true, cves: ['CVE-2024-5535'] },
    { package: 'libssl1.1', to: '1.1.1w-0+deb11u2', security: true, cves: ['CVE-2024-5535'] },
    { package: 'openssh-server', to: '1:8.4p1-5+deb11u4', security: true, cves: ['CVE-2023-48795'] },
    { package: 'sudo', to: '1.9.5p2-3+deb11u2', security: true, cves: ['CVE-2023-28486', 'CVE-2023-28487'] },
    { package: 'linux-image-amd64', to: '5.10.226-1', security: true, cves: ['CVE-2024-1086'], reboot: true },
    { package: 'tzdata', to: '2024b-0+deb11u1', security: false, cves: [] },
  ],
};

/** The installed packages of a host: the OS's base set and its role's own. */
export function installedPackages(os: OsKey, extra: readonly string[]): InstalledPackage[] {
  return [...BASE_PACKAGES[os], ...extra]
    .map((spec) => {
      const [nameVersion, source] = spec.split('@') as [string, string | undefined];
      const [name, version] = nameVersion.split('=') as [string, string];
      return { name, version, architecture: 'amd64', source: source ?? name, sourceVersion: version, status: 'installed', held: false };
    })
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** The upgrade record for an offer on a host whose installed version is `from`, published `publishedBy`. */
export function pendingUpgrade(o: UpdateOffer, os: OsKey, from: string, publishedBy: string): PendingUpgrade {
  const r = OSES[os].release;
  const suite = o.security ? `${r.codename}-security` : `${r.codename}-updates`;
  const site = r.id === 'ubuntu' ? (o.security ? 'security.ubuntu.com' : 'archive.ubuntu.com') : o.security ? 'security.debian.org' : 'deb.debian.org';
  return {
    package: o.package,
    architecture: 'amd64',
    from,
    to: o.to,
    security: o.security,
    releases: [
      {
        origin: r.id === 'ubuntu' ? 'Ubuntu' : 'Debian',
        label: o.security ? `${r.id === 'ubuntu' ? 'Ubuntu' : 'Debian'}-Security` : r.id === 'ubuntu' ? 'Ubuntu' : 'Debian',
        suite,
        codename: suite,
        site,
        component: 'main',
        trusted: true,
        date: publishedBy,
      },
    ],
    publishedBy,
    keptBack: false,
    cves: o.cves,
  };
}
