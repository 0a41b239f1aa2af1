import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CONFIG_TABLE_END, CONFIG_TABLE_START, configTable } from '../../src/config/doc.ts';
import { loadConfig, SETTINGS } from '../../src/config/mod.ts';
import { rejects } from '../helpers/assert.ts';

const test = suite('configuration');

test("README.md's configuration table is the one generated from the settings", async () => {
  const doc = await readFile(resolve(import.meta.dirname, '../../README.md'), 'utf8');
  const a = doc.indexOf(CONFIG_TABLE_START);
  const b = doc.indexOf(CONFIG_TABLE_END);
  assert.ok(a >= 0 && b > a, 'README.md has the config markers');
  assert.fixture(doc.slice(a, b + CONFIG_TABLE_END.length), configTable());
});

test('defaults, then variables, then flags; paths under the data folder follow it', () => {
  const d = loadConfig({}, {});
  assert.is(d.httpPort, 8080);
  assert.is(d.ingress.enrollPerMinute, 30);
  assert.ok(d.ledger.keyDir.endsWith('/data/ledger'));
  const e = loadConfig({ data: '/srv/stk' }, { STOCKADE_ENROLL_RATE: '5', STOCKADE_HTTP: '0.0.0.0:9000', STOCKADE_DATA: '/other' });
  assert.is(e.dataDir, '/srv/stk');
  assert.is(e.ledger.keyDir, '/srv/stk/ledger');
  assert.is(e.ingress.enrollPerMinute, 5);
  assert.equal([e.httpHost, e.httpPort], ['0.0.0.0', 9000]);
  assert.is(loadConfig({ http: '7000' }, { STOCKADE_HTTP: '9000' }).httpPort, 7000);
});

test('an invalid value is refused with STK_ERR_CONFIG naming the flag or the variable; secrets are not echoed', async () => {
  const cases: Array<[Record<string, string>, Record<string, string>, RegExp]> = [
    [{}, { STOCKADE_ENROLL_RATE: 'fast' }, /^STOCKADE_ENROLL_RATE must be a whole number/],
    [{}, { STOCKADE_AGENT_CERT_DAYS: '-1' }, /^STOCKADE_AGENT_CERT_DAYS must be a number/],
    [{ role: 'api,oracle' }, {}, /^--role names "oracle"/],
    [{}, { STOCKADE_REPLICAS: '2' }, /^STOCKADE_REPLICAS must be 1, 3 or 5/],
    [{}, { STOCKADE_HTTP: 'localhost:99999' }, /^STOCKADE_HTTP must be host:port/],
    [{}, { STOCKADE_LEDGER_BLOCK_MAX_ENTRIES: '6000' }, /^STOCKADE_LEDGER_BLOCK_MAX_ENTRIES must be a whole number from 1 to 5000/],
    [{}, { STOCKADE_LEDGER_WITNESS_URL: 'ftp://x' }, /^STOCKADE_LEDGER_WITNESS_URL must be an http\(s\) URL/],
  ];
  for (const [flags, env, message] of cases) {
    const err = await rejects((async () => loadConfig(flags, env))(), 'STK_ERR_CONFIG');
    assert.match(err.message, message);
  }
  const secret = await rejects((async () => loadConfig({}, { STOCKADE_ADMIN_KEY: 'short-secret' }))(), 'STK_ERR_CONFIG');
  assert.not.ok(secret.message.includes('short-secret'), 'a secret is never echoed');
});

test('every setting has a description, and a flag or a variable', () => {
  for (const [name, d] of Object.entries(SETTINGS)) {
    assert.ok(d.description.length > 10, name);
    assert.ok(d.flag || d.env, name);
  }
});

test.run();
