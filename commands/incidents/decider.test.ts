import { suite } from 'uvu';
import { incidentDecider } from './decider.ts';
import { IncidentEvents as E } from './events.ts';
import { ev, spec } from '../../test/helpers/spec.ts';

const test = suite('incidents decider');
const opened = ev(E.opened, { title: 't', severity: 'high', alertIds: ['a1'] });

test('open with alerts (deduplicated); assign and change status in one command; link only new alerts', () => {
  spec(incidentDecider)
    .given([])
    .when({ kind: 'open', incident: { title: 't', severity: 'high', alertIds: ['a1', 'a1', 'a2'] } })
    .then([E.opened], [{ title: 't', severity: 'high', alertIds: ['a1', 'a2'] }]);
  spec(incidentDecider).given([opened]).when({ kind: 'update', assignee: 'ana', status: 'investigating' }).then([E.assigned, E.statusChanged]);
  spec(incidentDecider)
    .given([opened, ev(E.assigned, { assignee: 'ana' })])
    .when({ kind: 'update', assignee: 'ana' })
    .then([]);
  spec(incidentDecider)
    .given([opened])
    .when({ kind: 'link-alerts', alertIds: ['a1', 'a3'] })
    .then([E.alertsLinked], [{ alertIds: ['a3'] }]);
});

test('close once with a reason; a closed incident takes no change; a missing one is not found', () => {
  spec(incidentDecider).given([opened]).when({ kind: 'close', reason: 'done' }).then([E.closed]);
  spec(incidentDecider)
    .given([opened, ev(E.closed, { reason: 'x' })])
    .when({ kind: 'close', reason: 'x' })
    .refused('STK_ERR_INVALID_TRANSITION');
  spec(incidentDecider)
    .given([opened, ev(E.closed, { reason: 'x' })])
    .when({ kind: 'update', status: 'open' })
    .refused('STK_ERR_INVALID_TRANSITION');
  spec(incidentDecider).given([]).when({ kind: 'close', reason: 'x' }).refused('STK_ERR_NOT_FOUND');
});

test.run();
