import { accept, invalidTransition, notFound, refuse, type Decider } from '../../src/domain/decider.ts';
import { ALERT, AlertEvents as E, type AlertRaised } from './events.ts';

export type AlertStatus = 'none' | 'open' | 'acknowledged' | 'resolved';
export interface AlertState {
  status: AlertStatus;
}

export type AlertCommand = { kind: 'raise'; alert: AlertRaised } | { kind: 'acknowledge' } | { kind: 'resolve'; reason: string };

export const alertDecider: Decider<AlertState, AlertCommand> = {
  aggregateType: ALERT,
  initialState: () => ({ status: 'none' }),
  evolve(s, e) {
    switch (e.type) {
      case E.raised:
        return { status: 'open' };
      case E.acknowledged:
        return { status: 'acknowledged' };
      case E.resolved:
        return { status: 'resolved' };
      default:
        return s;
    }
  },
  decide(c, s) {
    if (c.kind === 'raise')
      return s.status === 'none' ? accept({ type: E.raised, data: c.alert }) : refuse(invalidTransition('alert', s.status, 'raise it again'));
    if (s.status === 'none') return refuse(notFound('alert', ''));
    if (c.kind === 'acknowledge') {
      if (s.status === 'acknowledged') return accept();
      return s.status === 'open' ? accept({ type: E.acknowledged, data: {} }) : refuse(invalidTransition('alert', s.status, 'acknowledge'));
    }
    return s.status === 'resolved' ? refuse(invalidTransition('alert', s.status, 'resolve')) : accept({ type: E.resolved, data: { reason: c.reason } });
  },
};
