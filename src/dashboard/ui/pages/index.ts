import type { FunctionComponent } from 'preact';
import type { PageProps } from '../lib/page.ts';
import { AccessPage } from './access.tsx';
import { AccountPage } from './account.tsx';
import { AgentsPage } from './agents.tsx';
import { ApprovalsPage } from './approvals.tsx';
import { FanoutPage } from './fanout.tsx';
import { MspOverviewPage } from './msp.tsx';
import { PeoplePage } from './people.tsx';
import { ServiceAccountsPage, SignInPolicyPage } from './settings.tsx';
import { AlertsPage } from './alerts.tsx';
import { CustomersPage } from './customers.tsx';
import { FindingsPage } from './findings.tsx';
import { IncidentsPage } from './incidents.tsx';
import { OverviewPage } from './overview.tsx';
import { AuditPage, CommandsPage, EvidencePage, LedgerPage } from './records.tsx';
import { AssetsPage } from './assets.tsx';
import { PatchJobsPage, PatchesPage } from './patches.tsx';
import { ScansPage } from './scans.tsx';
import { ChannelsPage } from './channels.tsx';
import { CollectionPage } from './collection.tsx';
import { IdentitiesPage } from './identities.tsx';
import { ConnectionsPage, ProcessesPage } from './processes.tsx';
import { RulesPage } from './rules.tsx';
import { TelemetryPage } from './telemetry.tsx';

/**
 * Every page component by name. A page also needs its entry in `PAGE_SPECS` (`src/dashboard/page-list.ts`:
 * title, scope, products, detail), which the server checks addresses against.
 */
export const PAGES: Record<string, FunctionComponent<PageProps>> = {
  customers: CustomersPage,
  overview: OverviewPage,
  // Install pages whose name a customer page also has are keyed `install:<name>`.
  'install:overview': MspOverviewPage,
  fanout: FanoutPage,
  people: PeoplePage,
  'service-accounts': ServiceAccountsPage,
  'sign-in-policy': SignInPolicyPage,
  account: AccountPage,
  access: AccessPage,
  approvals: ApprovalsPage,
  agents: AgentsPage,
  alerts: AlertsPage,
  incidents: IncidentsPage,
  findings: FindingsPage,
  assets: AssetsPage,
  scans: ScansPage,
  patches: PatchesPage,
  'patch-jobs': PatchJobsPage,
  evidence: EvidencePage,
  commands: CommandsPage,
  audit: AuditPage,
  ledger: LedgerPage,
  processes: ProcessesPage,
  connections: ConnectionsPage,
  identities: IdentitiesPage,
  telemetry: TelemetryPage,
  rules: RulesPage,
  channels: ChannelsPage,
  collection: CollectionPage,
};
