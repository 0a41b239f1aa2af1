import { suite } from 'uvu';
import { ev, spec } from '../../test/helpers/spec.ts';
import { patchHostDecider, patchJobDecider, patchSettingsDecider } from './decider.ts';
import { type InventoryRecorded, PatchEvents as E } from './events.ts';

const test = suite('patch deciders');

test('settings: a window is validated and normalised; thresholds are whole days; nothing changed writes nothing', () => {
  const window = { days: ['sun', 'sat', 'sat'], start: '22:00', end: '02:00', timeZone: 'Europe/Berlin' } as never;
  spec(patchSettingsDecider)
    .given([])
    .when({ kind: 'set', values: { window } })
    .then([E.settingsChanged], [{ window: { days: ['sun', 'sat'], start: '22:00', end: '02:00', timeZone: 'Europe/Berlin' } }]);
  spec(patchSettingsDecider)
    .given([])
    .when({ kind: 'set', values: { window: { ...(window as object), timeZone: 'Mars/Olympus' } as never } })
    .refused('STK_ERR_PATCH_WINDOW_INVALID');
  spec(patchSettingsDecider)
    .given([])
    .when({ kind: 'set', values: { thresholdDays: 1.5 } })
    .refused('STK_ERR_VALIDATION');
  spec(patchSettingsDecider)
    .given([])
    .when({ kind: 'set', values: { thresholdDays: 14, window: null } })
    .then([]);
  spec(patchSettingsDecider)
    .given([ev(E.settingsChanged, { thresholdDays: 7 })])
    .when({ kind: 'set', values: { thresholdDays: 14 } })
    .then([E.settingsChanged], [{ thresholdDays: 14 }]);
});

const inventory = (takenAt: string, o: Partial<InventoryRecorded> = {}): InventoryRecorded => ({
  takenAt,
  os: null,
  listsRefreshed: true,
  warnings: [],
  warningCount: 0,
  reboot: { required: false, packages: [] },
  packagesSha256: 'a'.repeat(64),
  packagesSeq: 1,
  packageCount: 1,
  pending: [],
  cleared: [],
  compliance: {
    thresholdDays: 14,
    evaluatedAt: takenAt,
    missingSecurity: 0,
    overThreshold: 0,
    oldestAgeDays: null,
    pendingTotal: 0,
    rebootRequired: false,
    compliant: true,
  },
  openKeys: [],
  commandId: null,
  ...o,
});

test('host inventories are recorded in the order taken; an older or repeated one writes nothing; each names its package list', () => {
  const first = inventory('2026-01-02T00:00:00.000Z');
  spec(patchHostDecider).given([]).when({ kind: 'record', inventory: first }).then([E.inventoryRecorded]);
  const bare = { ...first, packagesSeq: 0 };
  spec(patchHostDecider).given([]).when({ kind: 'record', inventory: bare }).refused('STK_ERR_VALIDATION');
  spec(patchHostDecider)
    .given([ev(E.inventoryRecorded, first)])
    .when({ kind: 'record', inventory: first })
    .then([]);
  spec(patchHostDecider)
    .given([ev(E.inventoryRecorded, first)])
    .when({ kind: 'record', inventory: inventory('2026-01-01T00:00:00.000Z') })
    .then([]);
  spec(patchHostDecider)
    .given([ev(E.inventoryRecorded, first)])
    .when({ kind: 'record', inventory: { ...first, takenAt: '2026-01-03T00:00:00.000Z' } })
    .then([E.inventoryRecorded]);
});

test('a job result is recorded once; the same again is a retry, another result refused', () => {
  const job = {
    agentId: 'a',
    mode: 'security' as const,
    dryRun: true,
    startedAt: 'x',
    finishedAt: 'y',
    listsRefreshed: true,
    succeeded: true,
    rebootRequired: false,
    results: [],
  };
  spec(patchJobDecider).given([]).when({ kind: 'record', job }).then([E.jobRecorded]);
  spec(patchJobDecider)
    .given([ev(E.jobRecorded, job)])
    .when({ kind: 'record', job })
    .then([]);
  spec(patchJobDecider)
    .given([ev(E.jobRecorded, job)])
    .when({ kind: 'record', job: { ...job, succeeded: false } })
    .refused('STK_ERR_INVALID_TRANSITION');
});

test.run();
