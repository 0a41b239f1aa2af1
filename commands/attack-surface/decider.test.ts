import { suite } from 'uvu';
import { ev, spec } from '../../test/helpers/spec.ts';
import { asmSettingsDecider, scanScopeDecider } from './decider.ts';
import { AsmEvents as E } from './events.ts';

const test = suite('attack-surface deciders');

test('the allowlist is stored canonical and refused whole when an entry is malformed or too wide', () => {
  spec(asmSettingsDecider)
    .given([])
    .when({ kind: 'set', values: { targets: ['WWW.Example.com.', '198.51.100.0/28', '198.51.100.0/28', '*.corp.example'] } })
    .then([E.settingsChanged], [{ targets: ['www.example.com', '198.51.100.0/28', '*.corp.example'] }]);
  spec(asmSettingsDecider)
    .given([])
    .when({ kind: 'set', values: { targets: ['10.0.0.0/8'] } })
    .refused('STK_ERR_SCAN_TARGET_INVALID');
  spec(asmSettingsDecider)
    .given([])
    .when({ kind: 'set', values: { targets: ['10.0.0.1/24'] } })
    .refused('STK_ERR_SCAN_TARGET_INVALID');
  spec(asmSettingsDecider)
    .given([])
    .when({ kind: 'set', values: { expiryWarningDays: 0 } })
    .refused('STK_ERR_VALIDATION');
  spec(asmSettingsDecider)
    .given([])
    .when({ kind: 'set', values: { expiryWarningDays: 30, targets: [] } })
    .then([]);
});

test('a scope advances from the run it was computed against; a stale computation is refused, the same run again writes nothing', () => {
  const advance = { runId: 'r2', previousRunId: 'r1', openKeys: ['k'], previousOpenKeys: [] };
  const at1 = ev(E.scopeAdvanced, { runId: 'r1', previousRunId: null, openKeys: [], previousOpenKeys: [] });
  spec(scanScopeDecider).given([at1]).when({ kind: 'advance', advance }).then([E.scopeAdvanced]);
  spec(scanScopeDecider).given([]).when({ kind: 'advance', advance }).refused('STK_ERR_LOG_VERSION_CONFLICT');
  spec(scanScopeDecider)
    .given([at1, ev(E.scopeAdvanced, advance)])
    .when({ kind: 'advance', advance })
    .then([]);
  spec(scanScopeDecider)
    .given([])
    .when({ kind: 'advance', advance: { ...advance, previousRunId: null } })
    .then([E.scopeAdvanced]);
});

test.run();
