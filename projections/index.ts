import type { Projection } from '../src/store/model.ts';
import { agentConfigProjection } from './agent-config/projection.ts';
import { agentsProjection } from './agents/projection.ts';
import { alertsProjection } from './alerts/projection.ts';
import { auditProjection } from './audit/projection.ts';
import { agentCommandsProjection } from './agent-commands/projection.ts';
import { channelsProjection } from './channels/projection.ts';
import { deliveriesProjection } from './deliveries/projection.ts';
import { detectionProjection } from './detection/projection.ts';
import { evidenceProjection } from './evidence/projection.ts';
import { findingsProjection } from './findings/projection.ts';
import { hostsProjection } from './hosts/projection.ts';
import { incidentsProjection } from './incidents/projection.ts';
import { machinesProjection } from './machines/projection.ts';
import { scansProjection } from './scans/projection.ts';
import { tenantsProjection } from './tenants/projection.ts';
import { tokensProjection } from './tokens/projection.ts';
import { accessProjection } from './access/projection.ts';
import { approvalsProjection } from './approvals/projection.ts';
import { overviewProjection } from './overview/projection.ts';
import { settingsProjection } from './settings/projection.ts';
import { usersProjection } from './users/projection.ts';
import { attackSurfaceProjection } from './attack-surface/projection.ts';
import { patchesProjection } from './patches/projection.ts';

/** Every read model the projector maintains. */
export const PROJECTIONS: readonly Projection[] = [
  tenantsProjection,
  tokensProjection,
  agentsProjection,
  alertsProjection,
  incidentsProjection,
  findingsProjection,
  scansProjection,
  evidenceProjection,
  hostsProjection,
  agentConfigProjection,
  agentCommandsProjection,
  detectionProjection,
  channelsProjection,
  deliveriesProjection,
  machinesProjection,
  auditProjection,
  usersProjection,
  accessProjection,
  approvalsProjection,
  settingsProjection,
  overviewProjection,
  attackSurfaceProjection,
  patchesProjection,
];
