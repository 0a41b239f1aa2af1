import { verify } from '@node-rs/argon2';
import { alertDecider } from '../commands/alerts/decider.ts';
import { execute } from '../src/domain/execute.ts';
import { newId } from '../src/ids.ts';
import { hashPassword } from '../src/people/passwords.ts';
import { peopleOf } from '../src/people/people.ts';
import { passwordSignIn } from '../src/people/signin.ts';
import { API_PLUGINS } from '../src/roles.ts';
import { apiFixture } from '../test/helpers/api.ts';
import { person, PASSWORD } from '../test/people/helpers.ts';
import { measure, percentile, report } from './util.ts';

const SIGN_INS = 120;
const IN_FLIGHT = 4;
const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 200);
const ALERTS = Number(process.env.BENCH_ALERTS ?? 1000);
const OVERVIEW_SAMPLES = 40;

/**
 * People: password sign-ins per second at the chosen Argon2id cost (the whole sign-in: lock-out
 * check in KV, user lookup, unsealing, verification, counter reset) beside a bare Argon2id
 * verification loop in the same run; and the all-customers overview's p50/p99 with 200
 * customers × 1,000 alerts each, beside one customer's own overview.
 */
export async function benchPeople(): Promise<void> {
  const f = await apiFixture({ plugins: API_PLUGINS });
  try {
    const people = await peopleOf(f.stk.runtime);
    const p = await person(f, { install: ['msp-owner'] });
    const hash = await hashPassword(PASSWORD);
    await measure(8, IN_FLIGHT, () => verify(hash, PASSWORD));
    const raw = await measure(SIGN_INS, IN_FLIGHT, () => verify(hash, PASSWORD));
    const signIns = await measure(SIGN_INS, IN_FLIGHT, () => passwordSignIn(people, { email: p.email, password: PASSWORD, ip: '127.0.0.1' }));
    console.log('people');
    report(`password sign-ins, Argon2id m=19 MiB t=2, ${IN_FLIGHT} in flight`, signIns, 'sign-ins/s', { label: 'bare Argon2id verify', value: raw });

    const log = f.stk.runtime.log;
    const tenants: string[] = [];
    for (let i = 0; i < CUSTOMERS; i++) {
      const t = `bench-${i}-${newId()
        .slice(0, 5)
        .toLowerCase()
        .replace(/[^a-z0-9]/g, 'x')}`;
      await f.tenant(t);
      tenants.push(t);
    }
    const severities = ['low', 'medium', 'high', 'critical'] as const;
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < CUSTOMERS * ALERTS) {
          const i = next++;
          await execute(
            log,
            { tenant: tenants[i % CUSTOMERS]!, id: newId() },
            alertDecider,
            {
              kind: 'raise',
              alert: { agentId: 'a1', product: null, rule: 'bench', severity: severities[i % 4]!, title: `alert ${i}`, observedAt: new Date().toISOString() },
            },
            { actor: { kind: 'agent', id: 'a1' }, known: 'new' },
          );
        }
      }),
    );
    // 200,000 events take the projector a while on a busy 2-core machine: wait for all of them.
    const end = await log.lastPosition();
    let waits = 0;
    while (!(await f.stk.runtime.readModels!.projector.waitFor(end, 10_000))) if (++waits > 90) throw new Error('projector did not catch up');
    report(`loaded ${CUSTOMERS} customers × ${ALERTS} alerts (written and projected)`, (performance.now() - t0) / 1000, 's');
    const all: number[] = [];
    const one: number[] = [];
    for (let i = 0; i < OVERVIEW_SAMPLES; i++) {
      let s = performance.now();
      const r = await f.call('GET', '/api/v1/overview', { token: p.token });
      all.push(performance.now() - s);
      if (r.status !== 200 || r.body.items.length < CUSTOMERS) throw new Error(`overview: ${r.status}`);
      s = performance.now();
      await f.call('GET', `/api/v1/tenants/${tenants[i % CUSTOMERS]}/overview`, { token: p.token });
      one.push(performance.now() - s);
    }
    report(`all-customers overview, ${CUSTOMERS} customers, p50`, percentile(all, 50), 'ms', {
      label: 'one customer overview p50',
      value: percentile(one, 50),
    });
    report(`all-customers overview, ${CUSTOMERS} customers, p99`, percentile(all, 99), 'ms', {
      label: 'one customer overview p99',
      value: percentile(one, 99),
    });
  } finally {
    await f.cleanup();
  }
}
