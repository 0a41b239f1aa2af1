import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { type ScanItem, canonicalJson, escapePrintable, itemBytes, sortItems } from '../../src/scan/mod.ts';
import { parseHttpHead } from '../../src/scan/http.ts';
import { buildClientHello, parseServerFlight } from '../../src/scan/tls-hello.ts';
import { throws } from '../helpers/assert.ts';

const test = suite('scan items');

test('canonical JSON (src/merkle): keys sorted by code unit, no spaces; undefined members refused; the bytes are pinned', () => {
  const item: ScanItem = {
    target: 'www.example.com',
    address: '192.0.2.1',
    port: 443,
    state: 'open',
    banner: 'caf\\xc3\\xa9 "q"',
    http: { status: 'HTTP/1.1 200 OK', server: 'nginx' },
  };
  const text = new TextDecoder().decode(canonicalJson(item));
  throws(() => canonicalJson({ ...item, tls: undefined }), 'STK_ERR_VALIDATION');
  assert.is(
    text,
    '{"address":"192.0.2.1","banner":"caf\\\\xc3\\\\xa9 \\"q\\"","http":{"server":"nginx","status":"HTTP/1.1 200 OK"},"port":443,"state":"open","target":"www.example.com"}',
  );
  assert.equal(Buffer.from(itemBytes(item)).toString('utf8'), text);
  assert.is(createHash('sha256').update(itemBytes(item)).digest('hex'), createHash('sha256').update(text).digest('hex'));
  assert.is(
    new TextDecoder().decode(canonicalJson({ b: 1, a: [1, 'x', null, true], Z: { y: 2, x: 1.5 }, é: 0 })),
    '{"Z":{"x":1.5,"y":2},"a":[1,"x",null,true],"b":1,"é":0}',
  );
  throws(() => canonicalJson({ a: Number.POSITIVE_INFINITY }), 'STK_ERR_VALIDATION');
  throws(() => canonicalJson({ a: 1n }), 'STK_ERR_VALIDATION');
  throws(() => canonicalJson([undefined]), 'STK_ERR_VALIDATION');
  throws(() => canonicalJson({ at: new Date(0) }), 'STK_ERR_VALIDATION');
});

test('items sort by target, then address numerically (IPv4 before IPv6), then port', () => {
  const i = (target: string, address: string, port: number): ScanItem => ({ target, address, port, state: 'closed' });
  const sorted = sortItems([
    i('b.example', '10.0.0.1', 22),
    i('10.0.0.0/24', '10.0.0.10', 22),
    i('10.0.0.0/24', '10.0.0.9', 443),
    i('10.0.0.0/24', '10.0.0.9', 22),
    i('a.example', '2001:db8::1', 22),
    i('a.example', '192.0.2.200', 80),
    i('a.example', '192.0.2.3', 80),
  ]);
  assert.equal(
    sorted.map((x) => `${x.target} ${x.address} ${x.port}`),
    [
      '10.0.0.0/24 10.0.0.9 22',
      '10.0.0.0/24 10.0.0.9 443',
      '10.0.0.0/24 10.0.0.10 22',
      'a.example 192.0.2.3 80',
      'a.example 192.0.2.200 80',
      'a.example 2001:db8::1 22',
      'b.example 10.0.0.1 22',
    ],
  );
});

test('printable escaping: bytes, not UTF-8; controls and escapes cannot pass through', () => {
  assert.is(escapePrintable(Buffer.from('SSH-2.0-x\r\n\t\\ ~')), 'SSH-2.0-x\\r\\n\\t\\\\ ~');
  assert.is(escapePrintable(Buffer.from([0x1b, 0x5b, 0x32, 0x4a, 0x00, 0x7f, 0xc3, 0xa9])), '\\x1b[2J\\x00\\x7f\\xc3\\xa9');
});

test('HTTP heads: status line and Server kept, anything not HTTP refused', () => {
  assert.equal(parseHttpHead(Buffer.from('HTTP/1.0 301 Moved\r\nLocation: /x\r\nserver:  Apache/2.4.49 (Unix)\r\n\r\nbody')), {
    status: 'HTTP/1.0 301 Moved',
    server: 'Apache/2.4.49 (Unix)',
  });
  assert.equal(parseHttpHead(Buffer.from('HTTP/1.1 204\r\n\r\n')), { status: 'HTTP/1.1 204' });
  assert.is(parseHttpHead(Buffer.from('SSH-2.0-OpenSSH_9.6\r\n')), null);
  assert.is(parseHttpHead(Buffer.from('HTTP/1.1 20 OK\r\n')), null);
  const long = parseHttpHead(Buffer.from(`HTTP/1.1 200 OK\r\nServer: ${'A'.repeat(1000)}\x07\r\n\r\n`));
  assert.is(long?.server?.length, 256);
});

test('ClientHello bytes, and the reader of server flights: hello, alert, other protocols, partial input', () => {
  const hello = buildClientHello({ version: 'TLSv1', suites: [0x002f, 0x0005], serverName: 'a.example' });
  assert.equal([...hello.subarray(0, 3)], [0x16, 0x03, 0x01]);
  assert.is(hello.readUInt16BE(3), hello.length - 5);
  assert.is(hello[5], 1, 'a ClientHello');
  assert.is(hello.readUInt16BE(9), 0x0301, 'client_version');
  assert.equal([...hello.subarray(44, 52)], [0x00, 0x06, 0x00, 0x2f, 0x00, 0x05, 0x00, 0xff], 'the offered suites and the renegotiation SCSV');
  assert.ok(hello.includes(Buffer.from('a.example')), 'SNI');
  const v10 = buildClientHello({ version: 'TLSv1', suites: [0x002f], serverName: null });
  const v12 = buildClientHello({ version: 'TLSv1.2', suites: [0x002f], serverName: null });
  assert.is(v12.length - v10.length, 4 + 2 + 2 * 20, 'signature_algorithms (20 schemes) only in the TLS 1.2 hello');
  assert.is(v10.length, hello.length - (4 + 2 + 3 + 9) - 2, 'no SNI extension without a name');

  const serverHello = (version: number, suite: number): Buffer => {
    const body = Buffer.concat([Buffer.from([version >> 8, version & 0xff]), Buffer.alloc(32), Buffer.from([0, suite >> 8, suite & 0xff, 0])]);
    const hs = Buffer.concat([Buffer.from([2, 0, 0, body.length]), body]);
    return Buffer.concat([Buffer.from([22, 3, 3, 0, hs.length]), hs]);
  };
  const done = Buffer.from([22, 3, 3, 0, 4, 14, 0, 0, 0]);
  const sh = serverHello(0x0302, 0xc013);
  assert.equal(parseServerFlight(sh, { wantCertificate: false, ended: false }), {
    kind: 'hello',
    version: 'TLSv1.1',
    suite: 0xc013,
    certificates: [],
    complete: true,
  });
  assert.equal(parseServerFlight(sh, { wantCertificate: true, ended: false }).kind, 'hello');
  assert.is((parseServerFlight(sh, { wantCertificate: true, ended: false }) as { complete: boolean }).complete, false, 'waits for the certificate');
  assert.is((parseServerFlight(Buffer.concat([sh, done]), { wantCertificate: true, ended: false }) as { complete: boolean }).complete, true);
  assert.equal(parseServerFlight(sh.subarray(0, 20), { wantCertificate: false, ended: false }), { kind: 'need-more' });
  assert.equal(parseServerFlight(Buffer.from([21, 3, 1, 0, 2, 2, 70]), { wantCertificate: false, ended: false }), { kind: 'alert', level: 2, description: 70 });
  assert.equal(parseServerFlight(Buffer.from('HTTP/1.1 400 Bad Request\r\n'), { wantCertificate: false, ended: false }), { kind: 'not-tls' });
  assert.equal(parseServerFlight(Buffer.alloc(0), { wantCertificate: false, ended: true }), { kind: 'not-tls' });
});

test.run();
