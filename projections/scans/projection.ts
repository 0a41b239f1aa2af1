import { ScanEvents as E, type ScanCompleted, type ScanRefused, type ScanRequested, type ServiceFact } from '../../commands/scans/events.ts';
import type { Doc, Write } from '../../src/store/model.ts';
import { by, defineProjection, patch } from '../define.ts';

/** A scan run: requested (server scans), refused, or completed with its root, counts and diff. */
export interface ScanDoc extends Doc, Partial<ScanCompleted> {
  status: 'requested' | 'refused' | 'completed';
  requestedAt: string | null;
  requestedBy: string | null;
  request: Omit<ScanRequested, 'source'> | null;
  refusal: ScanRefused | null;
  recordedAt: string | null;
}

/** The listening services an agent reported with its latest scan run. */
export interface HostServicesDoc extends Doc {
  agentId: string;
  services: ServiceFact[];
  runId: string;
  observedAt: string;
}

export const scansProjection = defineProjection({
  model: 'scans',
  main: 'scans',
  collections: {
    // A requested run has no finish time yet: it sorts with its request time.
    scans: { indexes: ['agentId', 'product', 'status', 'commandId'], sorts: { finishedAt: (d) => String(d.finishedAt ?? d.requestedAt) } },
    'host-services': { indexes: [] },
  },
  on: {
    [E.requested]: {
      apply: (e, _docs, seq) => {
        const { source, ...request } = e.data as ScanRequested;
        const doc: ScanDoc = {
          id: e.aggregate.id,
          seq,
          status: 'requested',
          source,
          agentId: 'scanner',
          product: 'attack-surface',
          targets: request.targets,
          ports: request.ports,
          requestedAt: e.at,
          requestedBy: by(e),
          request,
          refusal: null,
          recordedAt: null,
        };
        return [{ collection: 'scans', id: doc.id, doc }];
      },
    },
    [E.refused]: {
      apply: (e, docs) => patch<ScanDoc>('scans', docs.get<ScanDoc>('scans', e.aggregate.id), { status: 'refused', refusal: e.data as ScanRefused }),
    },
    [E.completed]: {
      reads: (e) => [
        { collection: 'scans', id: e.aggregate.id },
        { collection: 'host-services', id: (e.data as ScanCompleted).agentId },
      ],
      apply: (e, docs, seq) => {
        const d = e.data as ScanCompleted;
        const old = docs.get<ScanDoc>('scans', e.aggregate.id);
        const doc: ScanDoc = {
          requestedAt: null,
          requestedBy: null,
          request: null,
          refusal: null,
          ...old,
          ...d,
          id: e.aggregate.id,
          seq: old?.seq ?? seq,
          status: 'completed',
          recordedAt: e.at,
        };
        const writes: Write[] = [{ collection: 'scans', id: doc.id, doc }];
        if (d.services) {
          const s: HostServicesDoc = { id: d.agentId, seq, agentId: d.agentId, services: d.services, runId: e.aggregate.id, observedAt: d.finishedAt };
          writes.push({ collection: 'host-services', id: s.id, doc: s });
        }
        return writes;
      },
    },
  },
});
