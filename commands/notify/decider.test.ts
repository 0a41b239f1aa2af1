import { suite } from 'uvu';
import { ev, spec } from '../../test/helpers/spec.ts';
import type { StoredChannel } from '../../src/notify/secrets.ts';
import { channelsDecider } from './decider.ts';
import { MAX_CHANNELS, NotifyEvents as E } from './events.ts';

const test = suite('notification channels decider');
const ch = (id: string): StoredChannel => ({
  id,
  tenant: 't',
  name: id,
  enabled: true,
  routing: { minSeverity: 'low', quietHours: null, thresholds: [1] },
  kind: 'chat',
  settings: { host: 'hooks.example.com' },
  sealed: 'stk-sb1.k.x.y',
});

test('create, replace, remove; a replace or removal of a missing channel is not found', () => {
  spec(channelsDecider)
    .given([])
    .when({ kind: 'save', channel: ch('c1'), create: true })
    .then([E.channelSaved]);
  spec(channelsDecider)
    .given([ev(E.channelSaved, { channel: ch('c1') })])
    .when({ kind: 'save', channel: { ...ch('c1'), name: 'renamed' }, create: false })
    .then([E.channelSaved]);
  spec(channelsDecider)
    .given([])
    .when({ kind: 'save', channel: ch('c1'), create: false })
    .refused('STK_ERR_NOT_FOUND');
  spec(channelsDecider)
    .given([ev(E.channelSaved, { channel: ch('c1') })])
    .when({ kind: 'remove', channelId: 'c1' })
    .then([E.channelRemoved], [{ channelId: 'c1' }]);
  spec(channelsDecider)
    .given([ev(E.channelSaved, { channel: ch('c1') }), ev(E.channelRemoved, { channelId: 'c1' })])
    .when({ kind: 'remove', channelId: 'c1' })
    .refused('STK_ERR_NOT_FOUND');
});

test(`at most ${MAX_CHANNELS} channels per tenant`, () => {
  const full = Array.from({ length: MAX_CHANNELS }, (_, i) => ev(E.channelSaved, { channel: ch(`c${i}`) }));
  spec(channelsDecider)
    .given(full)
    .when({ kind: 'save', channel: ch('one-more'), create: true })
    .refused('STK_ERR_VALIDATION');
  spec(channelsDecider)
    .given(full)
    .when({ kind: 'save', channel: { ...ch('c0'), name: 'x' }, create: false })
    .then([E.channelSaved]);
});

test.run();
