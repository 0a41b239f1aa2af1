import type { FunctionComponent } from 'preact';
import type { PageProps } from '../lib/page.ts';
import { AgentsPage } from './agents.tsx';
import { AlertsPage } from './alerts.tsx';
import { CustomersPage } from './customers.tsx';
import { FindingsPage } from './findings.tsx';
import { IncidentsPage } from './incidents.tsx';
import { OverviewPage } from './overview.tsx';
import { AuditPage, CommandsPage, EvidencePage, LedgerPage, ScansPage } from './records.tsx';

/**
 * Every page component by name. A page also needs its entry in `PAGE_SPECS` (`src/dashboard/page-list.ts`:
 * title, scope, products, detail), which the server checks addresses against.
 */
export const PAGES: Record<string, FunctionComponent<PageProps>> = {
  customers: CustomersPage,
  overview: OverviewPage,
  agents: AgentsPage,
  alerts: AlertsPage,
  incidents: IncidentsPage,
  findings: FindingsPage,
  scans: ScansPage,
  evidence: EvidencePage,
  commands: CommandsPage,
  audit: AuditPage,
  ledger: LedgerPage,
};
