import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TenantEvents } from '../../commands/tenants/events.ts';
import { loadPack } from './pack.ts';
import { productsOf, usableConfig } from './tenant-rules.ts';

const test = suite('tenant rule sets');
const pack = await loadPack();
const TMP = pack.find((r) => r.file === 'proc_creation_lnx_exec_from_tmp.yml')!;
const SILENT = pack.find((r) => r.file === 'agent_health_stopped_or_silent.yml')!;
const custom = (id: string) =>
  [
    'title: C',
    `id: ${id}`,
    'logsource:',
    '    product: linux',
    '    category: process_creation',
    'detection:',
    '    s:',
    '        Image: /x',
    '    condition: s',
    'level: low',
  ].join('\n');

test('products follow the enable and disable events in order', () => {
  const e = (type: string, product: string) => ({ type, data: { product } });
  assert.equal(
    productsOf([
      e(TenantEvents.productEnabled, 'edr'),
      e(TenantEvents.productEnabled, 'patch'),
      e(TenantEvents.productDisabled, 'edr'),
      { type: TenantEvents.renamed, data: {} },
    ]),
    ['patch'],
  );
});

test('a stored configuration with a broken part runs everything else', () => {
  const good = '11111111-1111-4111-8111-111111111111';
  const cfg = usableConfig(pack, {
    rules: { [TMP.id]: { level: 'low' }, [SILENT.id]: { enabled: false }, 'no-such-rule': { level: 'low' } },
    custom: [
      { name: 'good.yml', yaml: custom(good) },
      { name: 'bad.yml', yaml: 'title: [' },
    ],
  });
  assert.equal([...cfg.settings.keys()], [TMP.id]);
  assert.equal(
    cfg.custom.map((r) => r.id),
    [good],
  );
  const whole = usableConfig(pack, { rules: { [TMP.id]: { enabled: false } } });
  assert.is(whole.settings.get(TMP.id)?.enabled, false);
});

test.run();
