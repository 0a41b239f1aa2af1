import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatIp, mergeRanges, parseIp, prefixRange, rangeCovered } from '../../src/scan/address.ts';
import { parseAllowlist } from '../../src/scan/allowlist.ts';
import { parseTarget } from '../../src/scan/targets.ts';

const test = suite('scan targets');

const text = (s: string): string | null => {
  const ip = parseIp(s);
  return ip ? formatIp(ip) : null;
};

test('IPv4: four decimal parts, no leading zeros, no short or hex forms', () => {
  assert.is(text('203.0.113.7'), '203.0.113.7');
  assert.is(text('0.0.0.0'), '0.0.0.0');
  for (const bad of ['010.0.0.1', '10.1', '10.0.0.256', '0x7f.0.0.1', '1.2.3.4.5', '1..2.3', ' 1.2.3.4', '1.2.3.4 ', '', '1.2.3.-4']) {
    assert.is(text(bad), null, bad);
  }
});

test('IPv6: RFC 4291 forms in, RFC 5952 out; zone ids refused; IPv4-mapped becomes IPv4', () => {
  assert.is(text('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
  assert.is(text('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1', 'the first of two equal zero runs is compressed');
  assert.is(text('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1', 'a single zero group stays');
  assert.is(text('::'), '::');
  assert.is(text('::1'), '::1');
  assert.is(text('fe80::'), 'fe80::');
  assert.is(text('64:ff9b::192.0.2.33'), '64:ff9b::c000:221');
  assert.is(text('::ffff:127.0.0.1'), '127.0.0.1');
  assert.is(text('::FFFF:7f00:1'), '127.0.0.1');
  for (const bad of ['fe80::1%eth0', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', '::g', '1.2.3.4::', ':1', '1:2:3:4:5:6:7']) assert.is(text(bad), null, bad);
});

test('CIDR blocks: at most /16 (IPv4) and /112 (IPv6), no host bits, canonical text', () => {
  const ok = (s: string): string => {
    const p = parseTarget(s);
    assert.ok(p.ok, s);
    return p.ok ? p.target.text : '';
  };
  const reason = (s: string): string => {
    const p = parseTarget(s);
    assert.not.ok(p.ok, s);
    return p.ok ? '' : p.reason;
  };
  assert.is(ok('10.20.0.0/16'), '10.20.0.0/16');
  assert.is(ok('10.20.30.40/32'), '10.20.30.40/32');
  assert.is(ok('2001:DB8::/112'), '2001:db8::/112');
  assert.is(reason('10.0.0.0/15'), 'cidr-too-wide');
  assert.is(reason('0.0.0.0/0'), 'cidr-too-wide');
  assert.is(reason('2001:db8::/111'), 'cidr-too-wide');
  assert.is(reason('10.20.30.1/24'), 'host-bits-set');
  assert.is(reason('10.0.0.0/33'), 'invalid');
  assert.is(reason('10.0.0.0/024'), 'invalid');
  assert.is(reason('::ffff:10.0.0.0/120'), 'invalid');
  const wide = parseTarget('192.168.0.0/16');
  assert.ok(wide.ok && wide.target.kind === 'cidr' && wide.target.range.last - wide.target.range.first === 65_535n);
});

test('hostnames: LDH labels, lower-cased, trailing dot dropped; numeric last label, long labels and wildcards refused', () => {
  const p = parseTarget('WWW.Example.COM.');
  assert.equal(p.ok && p.target, { kind: 'hostname', text: 'www.example.com' });
  assert.ok(parseTarget('fileserver').ok, 'a single-label intranet name is a name');
  for (const bad of ['exa_mple.com', '-a.example.com', 'a-.example.com', `${'a'.repeat(64)}.com`, 'a..b', 'host.123', 'foo bar', 'xn--d1acufc.xn--p1ai/']) {
    const r = parseTarget(bad);
    assert.not.ok(r.ok, bad);
  }
  assert.ok(parseTarget('xn--d1acufc.xn--p1ai').ok, 'IDN in its xn-- form');
  const wild = parseTarget('*.example.com');
  assert.equal(wild.ok ? null : wild.reason, 'wildcard-not-allowed');
  const inList = parseTarget('*.example.com', { wildcard: true });
  assert.equal(inList.ok && inList.target, { kind: 'wildcard', text: '*.example.com', suffix: '.example.com' });
  assert.not.ok(parseTarget('*.com', { wildcard: true }).ok, 'a wildcard over a whole TLD is refused');
  assert.not.ok(parseTarget('x'.repeat(261)).ok);
});

test('allowlist ranges merge, so a request may span adjacent entries but not a gap', () => {
  const a = prefixRange(parseIp('10.0.0.0')!, 25)!;
  const b = prefixRange(parseIp('10.0.0.128')!, 25)!;
  const c = prefixRange(parseIp('10.0.2.0')!, 24)!;
  const merged = mergeRanges([c, b, a]);
  assert.is(merged.length, 2);
  assert.ok(rangeCovered(merged, prefixRange(parseIp('10.0.0.0')!, 24)!));
  assert.not.ok(rangeCovered(merged, prefixRange(parseIp('10.0.0.0')!, 22)!), '10.0.1.0/24 is not in the allowlist');
  const v6 = prefixRange(parseIp('::1')!, 128)!;
  assert.not.ok(rangeCovered(merged, v6), 'families never mix');

  const list = parseAllowlist(['10.0.0.0/25', '10.0.0.128/25', 'WWW.example.com', '*.corp.example.com', '2001:db8::/112']);
  assert.ok(list.ok);
  if (list.ok) {
    assert.equal(list.allowlist.entries, ['10.0.0.0/25', '10.0.0.128/25', 'www.example.com', '*.corp.example.com', '2001:db8::/112']);
    assert.is(list.allowlist.ranges.length, 2);
  }
  const bad = parseAllowlist(['10.0.0.0/8', 'ok.example.com', 'not a target']);
  assert.equal(bad.ok ? [] : bad.problems.map((p) => [p.target, p.reason]), [
    ['10.0.0.0/8', 'cidr-too-wide'],
    ['not a target', 'invalid'],
  ]);
});

test.run();
