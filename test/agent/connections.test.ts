import { readlinkSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import { createServer, type Server, type Socket, connect } from 'node:net';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConnectionCollector, decodeProcAddress, HostRoot, listeningServices, parseNetTable } from '../../src/agent/mod.ts';
import { tempDir } from '../helpers/nats.ts';
import { writeTree } from './fixture.ts';

const test = suite('agent: connection collector');

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

test('addresses as the kernel prints them on a little-endian machine, IPv6 word by word', () => {
  assert.is(decodeProcAddress('0100007F'), '127.0.0.1');
  assert.is(decodeProcAddress('0302010A'), '10.1.2.3');
  assert.is(decodeProcAddress('00000000000000000000000001000000'), '::1');
  assert.is(decodeProcAddress('00000000000000000000000000000000'), '::');
  assert.is(decodeProcAddress('B80D0120000000000000000001000000'), '2001:db8::1');
  assert.is(decodeProcAddress('000080FE00000000FF000002030000FE'), 'fe80::200:ff:fe00:3');
  assert.is(decodeProcAddress('0000000000000000FFFF00000100007F'), '::ffff:127.0.0.1');
  // RFC 5952: the longest zero run is compressed, the first of equal runs, a single zero group never.
  assert.is(decodeProcAddress('B80D0120000000000100000000000000'), '2001:db8::1:0:0');
  assert.is(decodeProcAddress('B80D01200000000000000100' + '01000000'), '2001:db8::1:0:0:1');
  assert.is(decodeProcAddress('B80D0120010000000000000001000000'), '2001:db8:0:1::1');
  assert.is(decodeProcAddress('B80D0120010000000100010001000100'), '2001:db8:0:1:1:1:1:1');
});

test('tables: states, ports, uid and inode; UDP unconnected; junk lines skipped', () => {
  const tcp = parseNetTable(
    `${HEADER}   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n` +
      `   1: 0302010A:1F90 0502010A:C350 01 00000000:00000000 02:000A7E9B 00000000  1000        0 23456 2 0000000000000000 20 4 30 10 -1\n` +
      `   2: 0302010A:1F90 0602010A:C351 06 00000000:00000000 03:00001234 00000000     0        0 0 3 0000000000000000\n` +
      'garbage line\n',
    'tcp',
  );
  assert.equal(tcp, [
    { protocol: 'tcp', state: 'LISTEN', localAddress: '127.0.0.1', localPort: 22, remoteAddress: '0.0.0.0', remotePort: 0, uid: 0, inode: 12345 },
    { protocol: 'tcp', state: 'ESTABLISHED', localAddress: '10.1.2.3', localPort: 8080, remoteAddress: '10.1.2.5', remotePort: 50000, uid: 1000, inode: 23456 },
    { protocol: 'tcp', state: 'TIME_WAIT', localAddress: '10.1.2.3', localPort: 8080, remoteAddress: '10.1.2.6', remotePort: 50001, uid: 0, inode: 0 },
  ]);
  const udp6 = parseNetTable(
    `${HEADER}  5: 00000000000000000000000000000000:0035 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 777 2 0000000000000000 0\n` +
      `  6: B80D0120000000000000000001000000:A000 B80D0120000000000000000002000000:0035 01 00000000:00000000 00:00000000 00000000     0        0 778 2 0000000000000000 0\n`,
    'udp6',
  );
  assert.equal(
    udp6.map((e) => [e.state, e.localAddress, e.localPort, e.remoteAddress, e.remotePort]),
    [
      ['UNCONN', '::', 53, '::', 0],
      ['ESTABLISHED', '2001:db8::1', 40960, '2001:db8::2', 53],
    ],
  );
});

test('a prepared root: sockets mapped to the lowest pid holding them, listeners listed', async () => {
  const dir = await tempDir('stk-net-');
  try {
    const r = dir.path;
    await writeTree(r, {
      'etc/passwd': 'root:x:0:0::/root:/bin/sh\nsshd:x:105:65534::/run/sshd:/usr/sbin/nologin\n',
      'proc/net/tcp': `${HEADER}   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5001 1\n   1: 0302010A:0016 0502010A:C350 01 00000000:00000000 00:00000000 00000000   105        0 5002 1\n`,
      'proc/net/tcp6': `${HEADER}   0: 0000000000000000FFFF00000302010A:0016 0000000000000000FFFF00000702010A:C352 06 00000000:00000000 03:00001234 00000000     0        0 0 3\n`,
      'proc/net/udp': `${HEADER}   0: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5003 1\n`,
      'proc/400/comm': 'sshd\n',
      'proc/500/comm': 'sshd\n',
      'proc/600/comm': 'dhclient\n',
    });
    await mkdir(join(r, 'proc/400/fd'), { recursive: true });
    await mkdir(join(r, 'proc/500/fd'), { recursive: true });
    await mkdir(join(r, 'proc/600/fd'), { recursive: true });
    await symlink('/usr/sbin/sshd', join(r, 'proc/400/exe'));
    await symlink('/usr/sbin/sshd', join(r, 'proc/500/exe'));
    await symlink('/sbin/dhclient', join(r, 'proc/600/exe'));
    await symlink('socket:[5001]', join(r, 'proc/500/fd/3'));
    await symlink('socket:[5001]', join(r, 'proc/400/fd/3')); // shared after fork: the lower pid owns it
    await symlink('socket:[5002]', join(r, 'proc/500/fd/4'));
    await symlink('/dev/null', join(r, 'proc/500/fd/0'));
    await symlink('socket:[5003]', join(r, 'proc/600/fd/7'));
    // udp6 missing: a kernel without it is not an error.

    const c = new ConnectionCollector({ root: new HostRoot(r) });
    const items = await c.scan();
    assert.equal(items, [
      {
        kind: 'connection',
        protocol: 'tcp',
        state: 'LISTEN',
        localAddress: '0.0.0.0',
        localPort: 22,
        remoteAddress: '0.0.0.0',
        remotePort: 0,
        pid: 400,
        exe: '/usr/sbin/sshd',
        user: 'root',
      },
      {
        kind: 'connection',
        protocol: 'tcp',
        state: 'ESTABLISHED',
        localAddress: '10.1.2.3',
        localPort: 22,
        remoteAddress: '10.1.2.5',
        remotePort: 50000,
        pid: 500,
        exe: '/usr/sbin/sshd',
        user: 'sshd',
      },
      {
        kind: 'connection',
        protocol: 'tcp6',
        state: 'TIME_WAIT',
        localAddress: '::ffff:10.1.2.3',
        localPort: 22,
        remoteAddress: '::ffff:10.1.2.7',
        remotePort: 50002,
        pid: null,
        exe: null,
        user: null,
      },
      {
        kind: 'connection',
        protocol: 'udp',
        state: 'UNCONN',
        localAddress: '0.0.0.0',
        localPort: 68,
        remoteAddress: '0.0.0.0',
        remotePort: 0,
        pid: 600,
        exe: '/sbin/dhclient',
        user: 'root',
      },
    ]);
    assert.equal(await c.scan(), []);
    assert.equal(await c.listening(), [
      { protocol: 'tcp', address: '0.0.0.0', port: 22, pid: 400, exe: '/usr/sbin/sshd', name: 'sshd', user: 'root' },
      { protocol: 'udp', address: '0.0.0.0', port: 68, pid: 600, exe: '/sbin/dhclient', name: 'dhclient', user: 'root' },
    ]);
  } finally {
    await dir.cleanup();
  }
});

test('the real kernel: listeners and a connection this test opens, owned by this process, IPv4 and IPv6', async () => {
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  const udps: UdpSocket[] = [];
  try {
    const listen = async (host: string): Promise<number> => {
      const s = createServer((sock) => sockets.push(sock));
      servers.push(s);
      await new Promise<void>((res) => s.listen(0, host, res));
      return (s.address() as { port: number }).port;
    };
    const p4 = await listen('127.0.0.1');
    const p6 = await listen('::1');
    const client = connect(p4, '127.0.0.1');
    sockets.push(client);
    await new Promise<void>((res) => client.once('connect', res));
    const udp = createSocket('udp6');
    udps.push(udp);
    await new Promise<void>((res) => udp.bind(0, '::1', res));
    const pu = udp.address().port;

    const c = new ConnectionCollector({ root: new HostRoot('/') });
    const items = await c.scan();
    const self = readlinkSync('/proc/self/exe');
    const find = (pred: (i: (typeof items)[number]) => boolean) => items.filter(pred);
    const l4 = find((i) => i.protocol === 'tcp' && i.state === 'LISTEN' && i.localPort === p4);
    assert.equal(
      l4.map((i) => [i.localAddress, i.pid, i.exe, i.user]),
      [['127.0.0.1', process.pid, self, 'root']],
    );
    const l6 = find((i) => i.protocol === 'tcp6' && i.state === 'LISTEN' && i.localPort === p6);
    assert.equal(
      l6.map((i) => [i.localAddress, i.pid]),
      [['::1', process.pid]],
    );
    const out = find((i) => i.protocol === 'tcp' && i.remotePort === p4);
    assert.equal(
      out.map((i) => [i.state, i.localAddress, i.localPort, i.remoteAddress, i.pid]),
      [['ESTABLISHED', '127.0.0.1', client.localPort, '127.0.0.1', process.pid]],
    );
    const u = find((i) => i.protocol === 'udp6' && i.localPort === pu);
    assert.equal(
      u.map((i) => [i.state, i.localAddress, i.pid]),
      [['UNCONN', '::1', process.pid]],
    );
    const listening = await listeningServices(new HostRoot('/'));
    assert.ok(listening.some((l) => l.protocol === 'tcp6' && l.port === p6 && l.pid === process.pid && l.exe === self));
    assert.ok(listening.some((l) => l.protocol === 'udp6' && l.port === pu && l.pid === process.pid));
    assert.not.ok(
      listening.some((l) => l.port === client.localPort),
      'a connected socket is not a listener',
    );

    // Reported once; a restarted collector with the saved state stays silent about them too.
    const again = await c.scan();
    assert.not.ok(again.some((i) => i.localPort === p4 || i.localPort === p6 || i.localPort === pu));
    const c2 = new ConnectionCollector({ root: new HostRoot('/') });
    c2.importState(JSON.parse(JSON.stringify(c.exportState())));
    assert.not.ok((await c2.scan()).some((i) => i.localPort === p4 || i.localPort === p6 || i.localPort === pu));
  } finally {
    for (const s of sockets) s.destroy();
    for (const u of udps) u.close();
    await Promise.all(servers.map((s) => new Promise((res) => s.close(res))));
  }
});

test.run();
