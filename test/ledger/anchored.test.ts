import { doorOf } from '../helpers/nats.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { evidenceDecider } from '../../commands/evidence/decider.ts';
import { findingDecider } from '../../commands/findings/decider.ts';
import { scanDecider } from '../../commands/scans/decider.ts';
import { execute } from '../../src/domain/execute.ts';
import { newId } from '../../src/ids.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { freshTenant, ledgerFixture } from './fixture.ts';

const test = suite('ledger: what the trust story rests on is anchored');

test('finding creation and state change, a scan run with its Merkle root, evidence custody steps: each is a verified entry', async () => {
  const f = await ledgerFixture();
  try {
    const t = freshTenant();
    const agent = { kind: 'agent' as const, id: newId() };
    const operator = { actor: { kind: 'operator' as const, id: 'op-1' } };
    const at = '2026-11-26T12:00:00.000Z';
    const finding = newId();
    await execute(
      f.log,
      { tenant: t, id: finding },
      findingDecider,
      { kind: 'report', finding: { agentId: agent.id, product: 'attack-surface', title: 'Open RDP', severity: 'high', subject: 'tcp/3389', observedAt: at } },
      { actor: agent, known: 'new' },
    );
    await execute(f.log, { tenant: t, id: finding }, findingDecider, { kind: 'triage', state: 'accepted-risk', reason: 'jump host' }, operator);
    await execute(
      f.log,
      { tenant: t, id: newId() },
      scanDecider,
      { kind: 'record', scan: { agentId: agent.id, product: 'patch', merkleRoot: 'cd'.repeat(32), itemCount: 412, startedAt: at, finishedAt: at } },
      { actor: agent, known: 'new' },
    );
    const evidence = newId();
    await execute(
      f.log,
      { tenant: t, id: evidence },
      evidenceDecider,
      { kind: 'collect', evidence: { agentId: agent.id, name: 'memory.dmp', sha256: 'ef'.repeat(32), sizeBytes: 1 << 20, collectedAt: at } },
      { actor: agent, known: 'new' },
    );
    await execute(f.log, { tenant: t, id: evidence }, evidenceDecider, { kind: 'transfer', to: 'forensics-lab', note: 'courier 17' }, operator);
    const last = (await execute(f.log, { tenant: t, id: evidence }, evidenceDecider, { kind: 'seal', by: 'lab-lead', note: 'case closed' }, operator)).position;

    const sealer = await f.sealer();
    await sealer.waitSealed(last);
    const records = await f.log.readTenant(t);
    const types = records.flatMap((r) => r.events.map((e) => e.type));
    assert.is(records.length, 6, types.join(','));
    const v = await verifyLedger({ streams: await doorOf(f.nc), tenants: [t] });
    assert.ok(v.ok, JSON.stringify(v.tenants[0]!.break));
    assert.is(v.tenants[0]!.entries, records.length, 'one entry per stored record');
  } finally {
    await f.close();
  }
});

test.run();
