import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { resolve } from 'node:path';
import { loadSpecs, parseSpec, withTenant } from '../../src/videos/spec.ts';
import { throws } from '../helpers/assert.ts';

/** Video specs: the sections parse, and every kind of mistake is named by file, step and field. */
const test = suite('videos: specs');
const SPECS = resolve(import.meta.dirname, '../../docs/videos/specs');

const good = `title: Alerts
tenant: acme
steps:
  - open: t/{tenant}/alerts
    wait: '[data-table="alerts"]'
    point: '[data-table="alerts"] tbody tr:first-child'
    say:
      - Alerts arrive while you watch.
  - do:
      - click: 'button:has-text("Acknowledge")'
      - type: { selector: '#x', text: '{credential}' }
      - select: { selector: '#filter-alerts-status', value: acknowledged }
      - press: { key: Escape }
    waitGone: dialog
    say:
      - Acknowledged.
`;

function invalid(name: string, text: string): { step: unknown; field: unknown; message: string } {
  const err = throws(() => parseSpec(`/specs/${name}`, text), 'STK_ERR_VIDEO_SPEC_INVALID');
  assert.is(err.data.file, `/specs/${name}`);
  assert.ok(err.message.startsWith(`/specs/${name}: `), err.message);
  return { step: err.data.step, field: err.data.field, message: err.message };
}

test('the sections parse, in order, each with narration in every step', async () => {
  const specs = await loadSpecs(SPECS);
  assert.equal(
    specs.map((s) => s.name),
    [
      '01-sign-in-and-customers',
      '02-overview',
      '03-agents-and-enrollment',
      '04-alerts',
      '05-incidents',
      '06-findings-and-scans',
      '07-evidence-and-custody',
      '08-audit-and-ledger',
      '09-people-and-roles',
      '10-edr-processes-and-proofs',
      '11-identities',
      '12-rules-and-channels',
    ],
  );
  for (const s of specs) {
    assert.ok(s.summary, `${s.name} has a summary for the README`);
    for (const step of s.steps) for (const line of step.say) assert.not.match(line, /TODO|TBD|FIXME|lorem/i);
  }
  // Only the sign-in section signs in on camera.
  assert.equal(
    specs.filter((s) => !s.signIn).map((s) => s.name),
    ['01-sign-in-and-customers'],
  );
});

test('a good spec: defaults, actions, and {tenant} replaced in paths, selectors and typed text', () => {
  const s = parseSpec('/specs/04-alerts.yaml', good);
  assert.is(s.name, '04-alerts');
  assert.equal(s.viewport, { width: 1920, height: 1080 });
  assert.is(s.signIn, true);
  const t = withTenant(s, 'globex');
  assert.is(t.steps[0]!.open, 't/globex/alerts');
  assert.equal(t.steps[1]!.do![1], { type: { selector: '#x', text: '{credential}' } });
  assert.is(withTenant(s, undefined).steps[0]!.open, 't/acme/alerts');
  throws(() => withTenant(s, 'Not.A.Tenant'), 'STK_ERR_VIDEO_SPEC_INVALID');
});

test('an unknown field names its step and field', () => {
  const e = invalid('04-alerts.yaml', good.replace('  - do:\n', '  - pointt: x\n    do:\n'));
  assert.equal([e.step, e.field], [2, 'pointt']);
  assert.match(e.message, /step 2: pointt: is not a known field/);
});

test('a step without narration, and narration with no sentence', () => {
  assert.equal(Object.values(invalid('04-alerts.yaml', good.replace('    say:\n      - Acknowledged.\n', ''))).slice(0, 2), [2, 'say']);
  const e = invalid('04-alerts.yaml', good.replace('    say:\n      - Acknowledged.\n', '    say: []\n'));
  assert.equal([e.step, e.field], [2, 'say']);
});

test('an action with two verbs, and an action missing a field', () => {
  const two = invalid('04-alerts.yaml', good.replace('      - click: \'button:has-text("Acknowledge")\'', '      - { click: a, press: { key: Enter } }'));
  assert.equal([two.step, two.field], [2, 'do[0]']);
  const noValue = invalid('04-alerts.yaml', good.replace(', value: acknowledged }', ' }'));
  assert.equal([noValue.step, noValue.field], [2, 'do[2].select.value']);
});

test('open takes a path under the dashboard only: no scheme, no host, no way up', () => {
  for (const bad of ['http://evil.example/', '//evil.example/x', 't/../../admin', 'a b']) {
    const e = invalid('04-alerts.yaml', good.replace('open: t/{tenant}/alerts', `open: '${bad}'`));
    assert.equal([e.step, e.field], [1, 'open'], bad);
  }
});

test('top-level mistakes have no step: a missing title, a viewport of the wrong shape, a file name', () => {
  const title = invalid('04-alerts.yaml', good.replace('title: Alerts\n', ''));
  assert.equal([title.step, title.field], [null, 'title']);
  const shape = invalid('04-alerts.yaml', `viewport: { width: 1024, height: 768 }\n${good}`);
  assert.equal([shape.step, shape.field], [null, 'viewport']);
  const name = invalid('alerts.yaml', good);
  assert.is(name.step, null);
});

test('{tenant} without a tenant, and a first step that opens nothing', () => {
  const e = invalid('04-alerts.yaml', good.replace('tenant: acme\n', ''));
  assert.equal([e.step, e.field], [1, 'tenant']);
  const first = invalid('04-alerts.yaml', good.replace('  - open: t/{tenant}/alerts\n    wait:', '  - wait:'));
  assert.equal([first.step, first.field], [1, 'open']);
});

test('broken YAML is reported with its line, and the step it is in', () => {
  const e = invalid('04-alerts.yaml', good.replace('      - Acknowledged.', '      - Acknowledged.\n     bad: [unclosed'));
  assert.match(e.message, /not valid YAML \(line \d+, column \d+\)/);
  assert.is(e.step, 2);
});

test.run();
