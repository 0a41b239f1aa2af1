import type { Projection } from '../src/store/model.ts';
import { agentsProjection } from './agents/projection.ts';
import { alertsProjection } from './alerts/projection.ts';
import { auditProjection } from './audit/projection.ts';
import { channelsProjection } from './channels/projection.ts';
import { commandsProjection } from './commands/projection.ts';
import { deliveriesProjection } from './deliveries/projection.ts';
import { detectionProjection } from './detection/projection.ts';
import { evidenceProjection } from './evidence/projection.ts';
import { findingsProjection } from './findings/projection.ts';
import { incidentsProjection } from './incidents/projection.ts';
import { scansProjection } from './scans/projection.ts';
import { tenantsProjection } from './tenants/projection.ts';
import { tokensProjection } from './tokens/projection.ts';

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
  commandsProjection,
  detectionProjection,
  channelsProjection,
  deliveriesProjection,
  auditProjection,
];
