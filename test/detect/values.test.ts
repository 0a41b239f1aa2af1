import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { evaluate, type Rule } from '../../src/detect/mod.ts';
import { anchor, globMatcher, parseSigmaString } from '../../src/detect/values.ts';
import { account, conn, mustLoad, proc, procRule } from './helpers.ts';

const test = suite('detect: values, wildcards and modifiers');

/** A rule with one selection `key: value` (value as YAML text). */
function field(key: string, value: string): Rule {
  return mustLoad(procRule(`    selection:\n        ${key}: ${value}\n    condition: selection`));
}

const hits = (rule: Rule, item: object): boolean => evaluate([rule], item).length === 1;

test('escaping follows the spec: \\* and \\? are literal, \\\\* is a backslash then a wildcard, \\\\\\* a backslash and a literal *', () => {
  const m = (v: string, s: string): boolean => globMatcher(parseSigmaString(v), false)(s);
  assert.ok(m('a\\*b', 'a*b'));
  assert.not.ok(m('a\\*b', 'axxb'));
  assert.ok(m('a\\?b', 'a?b'));
  assert.not.ok(m('a\\?b', 'axb'));
  assert.ok(m('a\\\\*', 'a\\anything'));
  assert.not.ok(m('a\\\\*', 'aXanything'));
  assert.ok(m('a\\\\\\*', 'a\\*'));
  assert.not.ok(m('a\\\\\\*', 'a\\x'));
  assert.ok(m('a\\\\\\\\b', 'a\\\\b'));
  // A backslash before anything else is a plain backslash: Windows paths need no doubling.
  assert.ok(m('C:\\Windows\\System32', 'C:\\Windows\\System32'));
  assert.ok(m('C:\\\\Windows', 'C:\\Windows'));
});

test('wildcards: * any run (also empty), ? exactly one character, anywhere in the value', () => {
  const m = (v: string, s: string): boolean => globMatcher(parseSigmaString(v), false)(s);
  assert.ok(m('/usr/*/php-fpm*', '/usr/sbin/php-fpm8.2'));
  assert.ok(m('/usr/*/php-fpm*', '/usr//php-fpm'));
  assert.not.ok(m('/usr/*/php-fpm*', '/opt/sbin/php-fpm'));
  assert.ok(m('prog?.exe', 'progA.exe'));
  assert.not.ok(m('prog?.exe', 'prog.exe'));
  assert.not.ok(m('prog?.exe', 'progAB.exe'));
  assert.ok(m('a*b?c*d', 'a--b-c--d'));
  assert.ok(m('a*b?c*d', 'abbxcd'));
  assert.not.ok(m('a*b?c*d', 'abcd'));
  assert.ok(m('*', ''));
  assert.ok(m('', ''));
  assert.not.ok(m('', 'x'));
  assert.ok(m('**x**', 'x'));
  // Leftmost placement of middle segments never misses a match.
  assert.ok(m('*ab*abc', 'ababc'));
  assert.ok(m('a*?', 'ab'));
  assert.not.ok(m('a*?', 'a'));
});

test('contains / startswith / endswith add the wildcards the spec says, keeping inner wildcards', () => {
  const m = (v: string, pos: 'contains' | 'startswith' | 'endswith', s: string): boolean => globMatcher(anchor(parseSigmaString(v), pos), false)(s);
  assert.ok(m('wget', 'contains', 'sh -c wget x'));
  assert.ok(m('/tmp/', 'startswith', '/tmp/x'));
  assert.not.ok(m('/tmp/', 'startswith', '/var/tmp/x'));
  assert.ok(m('/bash', 'endswith', '/usr/bin/bash'));
  assert.not.ok(m('/bash', 'endswith', '/usr/bin/bashx'));
  assert.ok(m('nc*-e', 'contains', 'x nc 1.2.3.4 -e y'));
  assert.ok(m('\\*', 'contains', 'a*b'));
  assert.not.ok(m('\\*', 'contains', 'ab'));
});

test('matching is case-insensitive, except with cased and re', () => {
  assert.ok(hits(field('CommandLine|contains', 'WGET'), proc({ cmdline: 'sh -c wget http://x' })));
  assert.ok(hits(field('Image', '/USR/BIN/LS'), proc()));
  assert.not.ok(hits(field('CommandLine|contains|cased', 'WGET'), proc({ cmdline: 'wget http://x' })));
  assert.ok(hits(field('CommandLine|contains|cased', 'WGET'), proc({ cmdline: 'WGET http://x' })));
  assert.not.ok(hits(field('CommandLine|re', "'^WGET'"), proc({ cmdline: 'wget http://x' })));
  assert.ok(hits(field('CommandLine|re|i', "'^WGET'"), proc({ cmdline: 'wget http://x' })));
});

test('a list of values is OR; with all it is AND', () => {
  const anyOf = field('CommandLine|contains', '\n            - mkfifo\n            - "nc "');
  const allOf = field('CommandLine|contains|all', '\n            - mkfifo\n            - "nc "');
  const both = proc({ cmdline: 'mkfifo /tmp/f; nc 1.2.3.4 80 < /tmp/f' });
  const one = proc({ cmdline: 'mkfifo /tmp/f' });
  assert.ok(hits(anyOf, both) && hits(anyOf, one));
  assert.ok(hits(allOf, both));
  assert.not.ok(hits(allOf, one));
});

test('a map is AND of its fields; a list of maps is OR of them', () => {
  const and = mustLoad(procRule('    selection:\n        User: root\n        Image|endswith: /crontab\n    condition: selection'));
  const or = mustLoad(procRule('    selection:\n        - User: root\n        - Image|endswith: /crontab\n    condition: selection'));
  const rootLs = proc({ user: 'root' });
  const aliceCrontab = proc({ exe: '/usr/bin/crontab' });
  assert.not.ok(hits(and, rootLs) || hits(and, aliceCrontab));
  assert.ok(hits(and, proc({ user: 'root', exe: '/usr/bin/crontab' })));
  assert.ok(hits(or, rootLs) && hits(or, aliceCrontab));
  assert.not.ok(hits(or, proc()));
});

test('null matches an absent or null field; exists tells present from absent', () => {
  const noCwd = field('CurrentDirectory', 'null');
  assert.ok(hits(noCwd, proc({ cwd: null })));
  assert.not.ok(hits(noCwd, proc()));
  const hashless = field('Hashes', 'null');
  assert.ok(hits(hashless, proc({ sha256: null })));
  const ruleOn = (key: string, v: string): Rule =>
    mustLoad(
      `title: t\nid: 0b6f2f0e-3c1d-4a57-9a43-7e1f0c2d9b11\nlogsource:\n    product: stockade\n    category: account_change\ndetection:\n    sel:\n        ${key}: ${v}\n    condition: sel\nlevel: low\n`,
    );
  const has = ruleOn('Details.attribute|exists', 'true');
  const hasNot = ruleOn('Details.attribute|exists', 'false');
  assert.ok(hits(has, account({ details: { attribute: 'uid' } })));
  assert.ok(hits(has, account({ details: { attribute: null } })), 'a null value is still present');
  assert.not.ok(hits(has, account()));
  assert.ok(hits(hasNot, account()));
  // An empty list has no value: `*` (any value) does not match it, null does.
  assert.not.ok(hits(ruleOn('Details.added', "'*'"), account({ details: { added: [] } })));
  assert.ok(hits(ruleOn('Details.added', 'null'), account({ details: { added: [] } })));
  assert.ok(hits(ruleOn('Details.added', 'HTTP/*'), account({ details: { added: ['cifs/x', 'http/web01'] } })), 'any element of a list field');
  assert.ok(hits(ruleOn('Details.added', "''"), account({ details: { added: [''] } })));
});

test('numbers and booleans compare by their text; a YAML number keeps its written form', () => {
  assert.ok(hits(field('ProcessId', '4242'), proc()));
  assert.not.ok(hits(field('ProcessId', '424'), proc()));
  assert.ok(hits(field('ProcessId|startswith', '42'), proc()));
  assert.ok(hits(field('CommandLine|contains', '0x17'), proc({ cmdline: 'tool --enc 0x17' })));
  assert.not.ok(hits(field('CommandLine|contains', '0x17'), proc({ cmdline: 'tool --enc 23' })));
  const priv = mustLoad(
    'title: t\nid: 0b6f2f0e-3c1d-4a57-9a43-7e1f0c2d9b11\nlogsource:\n    product: stockade\n    category: account_change\ndetection:\n    sel:\n        Privileged: true\n    condition: sel\nlevel: low\n',
  );
  assert.ok(hits(priv, account({ privileged: true })));
  assert.not.ok(hits(priv, account({ privileged: false })));
});

test('lt / lte / gt / gte compare numbers, never strings', () => {
  assert.ok(hits(field('ProcessId|lt', '5000'), proc()));
  assert.not.ok(hits(field('ProcessId|lt', '4242'), proc()));
  assert.ok(hits(field('ProcessId|lte', '4242'), proc()));
  assert.ok(hits(field('ProcessId|gt', '999'), proc()), '4242 > 999 although "4242" < "999"');
  assert.ok(hits(field('ProcessId|gte', '4242'), proc()));
  assert.not.ok(hits(field('CurrentDirectory|gt', '0'), proc({ cwd: null })));
  assert.not.ok(hits(field('User|gt', '0'), proc({ user: '' })), 'an empty string is not zero');
});

test('cidr matches IPv4 and IPv6 networks', () => {
  const rule = (nets: string): Rule =>
    mustLoad(
      `title: t\nid: 0b6f2f0e-3c1d-4a57-9a43-7e1f0c2d9b11\nlogsource:\n    product: linux\n    category: network_connection\ndetection:\n    sel:\n        DestinationIp|cidr: ${nets}\n    condition: sel\nlevel: low\n`,
    );
  const private10 = rule('10.0.0.0/8');
  assert.ok(hits(private10, conn({ remoteAddress: '10.200.3.4' })));
  assert.not.ok(hits(private10, conn({ remoteAddress: '11.0.0.1' })));
  const v6 = rule("\n            - 'fd00::/8'\n            - '192.168.0.0/16'");
  assert.ok(hits(v6, conn({ remoteAddress: 'FD12::1' })));
  assert.ok(hits(v6, conn({ remoteAddress: '192.168.1.1' })));
  assert.not.ok(hits(v6, conn({ remoteAddress: 'fe80::1' })));
  assert.not.ok(hits(v6, conn({ remoteAddress: 'not-an-ip' })));
});

test('re with m and s flags', () => {
  assert.ok(hits(field('CommandLine|re|m', "'^two$'"), proc({ cmdline: 'one\ntwo\nthree' })));
  assert.not.ok(hits(field('CommandLine|re', "'^two$'"), proc({ cmdline: 'one\ntwo\nthree' })));
  assert.ok(hits(field('CommandLine|re|s', "'one.two'"), proc({ cmdline: 'one\ntwo' })));
  assert.not.ok(hits(field('CommandLine|re', "'one.two'"), proc({ cmdline: 'one\ntwo' })));
});

test.run();
