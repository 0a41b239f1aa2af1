import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DetectionEvents } from '../../commands/detection/events.ts';
import { loadPack } from '../../src/detect/pack.ts';
import { apiFixture, type ApiFixture } from '../helpers/api.ts';
import { freshTenant } from '../helpers/events.ts';

const test = suite('operator API: detection rules, settings, custom rules');
let f: ApiFixture;
test.before(async () => {
  f = await apiFixture();
});
test.after(async () => {
  await f?.cleanup();
});

const pack = await loadPack();
const fixture = (name: string) => readFile(join(import.meta.dirname, '../detect/fixtures', name), 'utf8');
const CORE_SILENT = pack.find((r) => r.file === 'agent_health_stopped_or_silent.yml')!;
const TMP = pack.find((r) => r.file === 'proc_creation_lnx_exec_from_tmp.yml')!;

async function tenantWithOperator(products: string[] = []) {
  const tenant = freshTenant('rules');
  await f.tenant(tenant, products);
  const op = await f.token(tenant, 'operator');
  const call = (method: string, path: string, body?: unknown) =>
    f.call(method, `/api/v1/tenants/${tenant}/detection${path}`, { token: op, ...(body !== undefined ? { body } : {}) });
  return { tenant, op, call };
}

test('the rules list: every built-in rule, core rules running for a core tenant, product rules not until the product is on', async () => {
  const { tenant, call } = await tenantWithOperator();
  let r = await call('GET', '/rules');
  assert.is(r.status, 200, JSON.stringify(r.body));
  assert.is(r.body.items.length, pack.length);
  const silent = r.body.items.find((x: { id: string }) => x.id === CORE_SILENT.id);
  assert.equal([silent.product, silent.active, silent.custom, silent.version], ['core', true, false, CORE_SILENT.version]);
  assert.is(r.body.items.find((x: { id: string }) => x.id === TMP.id).active, false);
  await f.call('PUT', `/api/v1/tenants/${tenant}/products/edr`, { body: { enabled: true } });
  r = await call('GET', '/rules?logsource=linux/process_creation');
  assert.ok(r.body.items.length > 0 && r.body.items.every((x: { active: boolean; logsource: string }) => x.active && x.logsource === 'linux/process_creation'));
  const one = await call('GET', `/rules/${TMP.id}`);
  assert.is(one.body.source, TMP.source);
});

test('a setting: level and exclusions are kept as events and audited; reset goes back; a bad setting is refused with every problem and writes nothing', async () => {
  const { tenant, call } = await tenantWithOperator(['edr']);
  const put = await call('PUT', `/rules/${TMP.id}/setting`, { level: 'critical', exclude: { User: ['build-*'] } });
  assert.is(put.status, 200, JSON.stringify(put.body));
  assert.is(put.body.level, 'critical');
  assert.is(put.body.defaultLevel, TMP.level);
  assert.equal(put.body.setting.exclude, { User: ['build-*'] });
  const audit = await f.call('GET', `/api/v1/tenants/${tenant}/audit?action=${DetectionEvents.ruleConfigured}&waitFor=${put.body.consistencyToken}`);
  assert.is(audit.body.items.length, 1);
  assert.match(audit.body.items[0].actorId, /^token:/);

  const before = await f.stk.runtime.log.lastPosition();
  const bad = await call('PUT', `/rules/${CORE_SILENT.id}/setting`, { enabled: false, exclude: { Usr: ['x'] } });
  assert.is(bad.status, 400);
  assert.is(bad.body.error.code, 'STK_ERR_DETECT_CONFIG_INVALID');
  assert.equal(
    bad.body.error.data.problems.map((p: { path: string }) => p.path),
    [`rules.${CORE_SILENT.id}.enabled`, `rules.${CORE_SILENT.id}.exclude.Usr`],
  );
  assert.is(await f.stk.runtime.log.lastPosition(), before, 'nothing written');

  const reset = await call('DELETE', `/rules/${TMP.id}/setting`);
  assert.is(reset.body.level, TMP.level);
  assert.is(reset.body.setting, null);
  const unknown = await call('PUT', '/rules/00000000-0000-4000-8000-000000000000/setting', { level: 'low' });
  assert.is(unknown.status, 404);
});

test('a custom rule outside the subset is refused with every problem, line and reason, and nothing is written', async () => {
  const { call } = await tenantWithOperator(['edr']);
  const before = await f.stk.runtime.log.lastPosition();
  const r = await call('POST', '/custom-rules', { name: 'bad-rule.yml', yaml: await fixture('bad-rule.yml') });
  assert.is(r.status, 400);
  assert.is(r.body.error.code, 'STK_ERR_DETECT_RULE_INVALID');
  assert.equal(
    r.body.error.data.problems.map((p: { line: number; col: number; path: string }) => [p.line, p.col, p.path]),
    [
      [9, 9, 'detection.selection.CommandLine|base64offset|contains'],
      [10, 5, 'detection.timeframe'],
      [11, 26, 'detection.condition'],
      [12, 8, 'level'],
    ],
  );
  assert.ok(r.body.error.data.problems.every((p: { reason: string; file: string }) => p.reason.length > 10 && p.file === 'bad-rule.yml'));
  assert.is(await f.stk.runtime.log.lastPosition(), before);
});

test('custom rules: uploaded, listed with their source and version, replaced by a new version, refused when the id is taken, removed', async () => {
  const { call } = await tenantWithOperator(['edr']);
  const yaml = await fixture('custom-rule.yml');
  const id = 'eef82c01-0af0-4ea5-86f6-2ce21e3c01c1';
  const created = await call('POST', '/custom-rules', { name: 'shadow-read.yml', yaml });
  assert.is(created.status, 201, JSON.stringify(created.body));
  assert.equal([created.body.id, created.body.custom, created.body.name, created.body.active], [id, true, 'shadow-read.yml', true]);
  const again = await call('POST', '/custom-rules', { name: 'other.yml', yaml });
  assert.is(again.status, 400);
  assert.is(again.body.error.code, 'STK_ERR_DETECT_CONFIG_INVALID');
  const builtinId = await call('POST', '/custom-rules', { name: 'copy.yml', yaml: TMP.source });
  assert.is(builtinId.body.error.code, 'STK_ERR_DETECT_CONFIG_INVALID', 'a built-in id is taken too');

  const v2 = await call('PUT', `/custom-rules/${id}`, { name: 'shadow-read.yml', yaml: yaml.replace('level: high', 'level: critical') });
  assert.is(v2.status, 200, JSON.stringify(v2.body));
  assert.is.not(v2.body.version, created.body.version);
  assert.is(v2.body.level, 'critical');
  const other = await call('PUT', `/custom-rules/${id}`, { name: 'x.yml', yaml: TMP.source });
  assert.is(other.status, 400, 'a file with another id does not replace this rule');

  const tuned = await call('PUT', `/rules/${id}/setting`, { enabled: false });
  assert.is(tuned.body.active, false);
  const list = await call('GET', `/rules?custom=true&waitFor=${tuned.body.consistencyToken}`);
  assert.equal(
    list.body.items.map((x: { id: string }) => x.id),
    [id],
  );
  const gone = await call('DELETE', `/custom-rules/${id}`);
  assert.is(gone.status, 200);
  assert.is((await call('GET', `/rules/${id}?waitFor=${gone.body.consistencyToken}`)).status, 404);
  assert.is((await call('DELETE', `/custom-rules/${id}`)).status, 404);
});

test.run();
