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

test('the assignee can be cleared; title and severity change only when they differ', () => {
  const assigned = ev(E.assigned, { assignee: 'ana' });
  spec(incidentDecider).given([opened, assigned]).when({ kind: 'update', assignee: null }).then([E.unassigned]);
  spec(incidentDecider).given([opened]).when({ kind: 'update', assignee: null }).then([]);
  spec(incidentDecider)
    .given([opened, assigned, ev(E.unassigned)])
    .when({ kind: 'update', assignee: 'bo' })
    .then([E.assigned], [{ assignee: 'bo' }]);
  spec(incidentDecider)
    .given([opened])
    .when({ kind: 'update', title: 'renamed', severity: 'critical' })
    .then([E.retitled, E.severityChanged], [{ title: 'renamed' }, { severity: 'critical' }]);
  spec(incidentDecider).given([opened]).when({ kind: 'update', title: 't', severity: 'high' }).then([]);
});

test('comments also after closing; reopen only a closed incident, which then takes changes again', () => {
  const closed = ev(E.closed, { reason: 'x' });
  spec(incidentDecider)
    .given([opened])
    .when({ kind: 'comment', text: 'looked at it' })
    .then([E.commented], [{ text: 'looked at it' }]);
  spec(incidentDecider).given([opened, closed]).when({ kind: 'comment', text: 'post-mortem' }).then([E.commented]);
  spec(incidentDecider).given([opened]).when({ kind: 'reopen', reason: 'x' }).refused('STK_ERR_INVALID_TRANSITION');
  spec(incidentDecider)
    .given([opened, closed])
    .when({ kind: 'reopen', reason: 'new evidence' })
    .then([E.reopened], [{ reason: 'new evidence' }]);
  spec(incidentDecider)
    .given([opened, closed, ev(E.reopened, { reason: 'r' })])
    .when({ kind: 'update', status: 'investigating' })
    .then([E.statusChanged]);
  spec(incidentDecider).given([]).when({ kind: 'comment', text: 'x' }).refused('STK_ERR_NOT_FOUND');
});

test.run();
