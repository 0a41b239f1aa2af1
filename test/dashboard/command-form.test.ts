import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ACTION_ARGS } from '../../src/domain/actions.ts';
import { vPattern } from '../../src/dashboard/ui/components/command-form.tsx';

/**
 * The command forms check a field with its JSON-schema pattern turned into an `<input pattern>`.
 * A browser anchors that pattern at both ends and compiles it with the `v` flag; JSON schema does
 * neither. The form must accept exactly what the API accepts, or an operator cannot send a valid
 * command (an absolute path for collect-evidence was refused as "not exactly a slash").
 */
const test = suite('dashboard: command form patterns mean what the API means');

/** How a browser reads `<input pattern>`: anchored, v flag. */
const browser = (pattern: string) => new RegExp(`^(?:${vPattern(pattern)})$`, 'v');
/** How the API's schema check reads it (Ajv: unanchored, u flag). */
const schema = (pattern: string) => new RegExp(pattern, 'u');

/** Every string pattern of every action's arguments. */
function patterns(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const walk = (where: string, s: unknown): void => {
    if (!s || typeof s !== 'object') return;
    const o = s as Record<string, unknown>;
    if (typeof o.pattern === 'string') out.push([where, o.pattern]);
    for (const [k, v] of Object.entries((o.properties as Record<string, unknown>) ?? {})) walk(`${where}.${k}`, v);
    if (o.items) walk(`${where}[]`, o.items);
  };
  for (const [action, s] of Object.entries(ACTION_ARGS)) walk(action, s);
  return out;
}

const SAMPLES = [
  '/var/log/auth.log',
  '/',
  'var/log/auth.log',
  'a'.repeat(64),
  'f'.repeat(63),
  'frank',
  'Frank',
  'svc$',
  'jdoe@corp.example',
  'CN=John Doe,OU=Staff,DC=corp,DC=example',
  'S-1-5-21-1004336348-1177238915-682003330-512',
  '10.0.0.0/24',
  '[2001:db8::1]',
  'ingress.example.net',
  'bad name',
  'line\nbreak',
  '',
  'openssl',
  'libssl3:amd64',
];

test('every action argument pattern accepts and refuses in the form what the API accepts and refuses', () => {
  const found = patterns();
  assert.ok(found.length >= 5, `found ${found.length} patterns`);
  for (const [where, p] of found) {
    for (const sample of SAMPLES) {
      if (sample === '') continue;
      assert.is(browser(p).test(sample), schema(p).test(sample), `${where} (${p}) on ${JSON.stringify(sample)}`);
    }
  }
});

test('an unanchored side matches anything there; anchored patterns stay exact', () => {
  assert.ok(browser('^/').test('/var/log/auth.log'), 'starts with a slash');
  assert.not.ok(browser('^/').test('var/log'), 'must start with a slash');
  assert.ok(browser('ab').test('xxabyy'), 'unanchored on both sides');
  assert.not.ok(browser('^[0-9a-f]{64}$').test(`${'a'.repeat(64)}x`));
  assert.ok(browser('^[a-z_][a-z0-9_.-]*\\$?$').test('svc$'));
  assert.not.ok(browser('^[a-z_][a-z0-9_.-]*\\$?$').test('svc$x'));
});

test.run();
