import { patchSettingsDecider } from '../../../commands/patch/decider.ts';
import { PATCH_DEFAULTS, type PatchSettings } from '../../../commands/patch/events.ts';
import type { AgentDoc } from '../../../projections/agents/projection.ts';
import type { FindingDoc } from '../../../projections/findings/projection.ts';
import type { PatchHostDoc, PatchJobDoc, PatchPackageDoc, PatchSettingsDoc, PatchSummaryDoc, PatchTrendDoc } from '../../../projections/patches/projection.ts';
import { summaryDocId } from '../../../projections/patches/projection.ts';
import { maintenanceWindowSchema } from '../../agent/patch/schemas.ts';
import { nextWindowStart } from '../../agent/patch/window.ts';
import { TENANT_PREFIX, type TenantContext, type TenantRouteDef, tenantRoute } from '../route.ts';
import { ID, mustGet, oneOf, TENANT_PARAM } from '../schemas.ts';

const DAY_MS = 86_400_000;
const TREND_MAX_DAYS = 366;

function settingsOf(doc: PatchSettingsDoc | null): PatchSettings {
  return { window: doc?.window ?? PATCH_DEFAULTS.window, thresholdDays: doc?.thresholdDays ?? PATCH_DEFAULTS.thresholdDays };
}

/** A host's pending security updates with their age now (compliance changes with time, not only with inventories). */
function hostView(d: PatchHostDoc, thresholdDays: number, hostname: string | null, now = Date.now()) {
  const missing = d.pending
    .filter((p) => p.security)
    .map((p) => {
      const ageMs = Math.max(0, now - Date.parse(p.availableSince));
      return { ...p, ageDays: Math.floor(ageMs / DAY_MS), overThreshold: ageMs > thresholdDays * DAY_MS };
    })
    .sort((a, b) => b.ageDays - a.ageDays || a.package.localeCompare(b.package));
  const overdueNow = missing.filter((m) => m.overThreshold).length;
  return {
    ...d,
    hostname,
    missingSecurity: missing,
    now: { thresholdDays, overThreshold: overdueNow, compliant: overdueNow === 0 && !d.reboot.required },
  };
}

async function hostnameOf(c: TenantContext, agentId: string): Promise<string | null> {
  return (await c.store.get<AgentDoc>('agents', agentId))?.hostname ?? null;
}

/** The Patches view: settings, compliance by host and package, the trend, and install-patches jobs. */
export const patchRoutes: TenantRouteDef[] = [
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/patch-settings`,
    permission: 'patches.read',
    area: 'patches',
    summary: 'The maintenance window (install-patches waits for it on the host) and the compliance threshold in days, with when the window opens next',
    params: TENANT_PARAM,
    handler: async (c) => {
      const s = settingsOf(await c.store.get<PatchSettingsDoc>('patch-settings', c.tenant));
      return { ...s, nextWindowStart: s.window ? nextWindowStart(s.window, new Date()).toISOString() : null, consistencyToken: c.readToken() };
    },
  }),
  tenantRoute({
    method: 'PUT',
    url: `${TENANT_PREFIX}/patch-settings`,
    permission: 'patches.manage',
    area: 'patches',
    summary: 'Set the maintenance window (days, HH:MM start and end, IANA time zone; null for none) and the compliance threshold',
    params: TENANT_PARAM,
    body: { properties: { window: { anyOf: [maintenanceWindowSchema, { type: 'null' }] }, thresholdDays: { type: 'integer', minimum: 0, maximum: 365 } } },
    handler: async (c: TenantContext<Partial<PatchSettings>>) => {
      const r = await c.execute(patchSettingsDecider, c.tenant, { kind: 'set', values: c.body });
      const consistencyToken = await c.settle(r.position);
      return { ...settingsOf(await c.store.get<PatchSettingsDoc>('patch-settings', c.tenant)), consistencyToken };
    },
  }),
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/patches`,
    permission: 'patches.read',
    area: 'patches',
    summary: "The tenant's compliance: hosts, compliant, needing a reboot, with overdue security updates, and the packages missing on most hosts",
    params: TENANT_PARAM,
    handler: async (c) => {
      const token = c.readToken();
      const s = await c.store.get<PatchSummaryDoc>('patch-summary', summaryDocId(c.tenant));
      const top = await c.store.list<PatchPackageDoc>('patch-packages', { filter: { security: 'yes' }, limit: 10 });
      return {
        hosts: s?.hosts ?? 0,
        compliant: s?.compliant ?? 0,
        needingReboot: s?.needingReboot ?? 0,
        withOverdueUpdates: s?.withOverdueUpdates ?? 0,
        missingSecurity: s?.missingSecurity ?? 0,
        updatedAt: s?.updatedAt ?? null,
        thresholdDays: settingsOf(await c.store.get<PatchSettingsDoc>('patch-settings', c.tenant)).thresholdDays,
        topSecurityPackages: top.items.map(({ hosts: _h, ...p }) => p),
        consistencyToken: token,
      };
    },
  }),
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/patches/hosts`,
    permission: 'patches.read',
    area: 'patches',
    summary: 'Hosts by compliance, worst first (overdue security updates, then missing ones, then a pending reboot)',
    params: TENANT_PARAM,
    query: {
      limit: { type: 'string', pattern: '^[0-9]{1,3}$' },
      cursor: { type: 'string', maxLength: 200 },
      compliant: oneOf(['yes', 'no']),
      rebootRequired: oneOf(['yes', 'no']),
    },
    handler: async (c: TenantContext<unknown, Record<string, string>>) => {
      const token = c.readToken();
      const { thresholdDays } = settingsOf(await c.store.get<PatchSettingsDoc>('patch-settings', c.tenant));
      const filter: Record<string, string> = {};
      for (const f of ['compliant', 'rebootRequired']) if (c.query[f]) filter[f] = c.query[f]!;
      const limit = c.query.limit ? Math.min(Math.max(Number(c.query.limit), 1), 200) : 50;
      const p = await c.store.list<PatchHostDoc>('patch-hosts', { filter, limit, ...(c.query.cursor ? { cursor: c.query.cursor } : {}) });
      const items = await Promise.all(
        p.items.map(async (d) => {
          const { pending: _p, missingSecurity, ...rest } = hostView(d, thresholdDays, await hostnameOf(c, d.agentId));
          return { ...rest, missingSecurityCount: missingSecurity.length, pendingCount: d.pending.length };
        }),
      );
      return { items, nextCursor: p.nextCursor, consistencyToken: token };
    },
  }),
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/patches/hosts/:agentId`,
    permission: 'patches.read',
    area: 'patches',
    summary: "A host's patch view: compliance, missing security updates with their age, pending upgrades, installed packages, open findings, recent jobs",
    params: { ...TENANT_PARAM, agentId: ID },
    handler: async (c: TenantContext<unknown, unknown, { agentId: string }>) => {
      const token = c.readToken();
      const d = await mustGet<PatchHostDoc>(c, 'patch-hosts', c.params.agentId);
      const { thresholdDays } = settingsOf(await c.store.get<PatchSettingsDoc>('patch-settings', c.tenant));
      const packages = await c.packages.list(d.agentId, d.packagesSeq, d.packagesSha256);
      const jobs = await c.store.list<PatchJobDoc>('patch-jobs', { filter: { agentId: d.agentId }, limit: 10 });
      const findings = await c.store.list<FindingDoc>('findings', { filter: { agentId: d.agentId, product: 'patch', state: 'open' }, limit: 200 });
      return {
        ...hostView(d, thresholdDays, await hostnameOf(c, d.agentId)),
        // null when the list is not there any more (the PACKAGES stream's size bound dropped it).
        installed: packages?.map(([name, version, architecture, source, status, held]) => ({ name, version, architecture, source, status, held })) ?? null,
        openFindings: findings.items.map((f) => ({ id: f.id, key: f.key, title: f.title, severity: f.severity, lastSeenAt: f.lastSeenAt })),
        jobs: jobs.items.map(({ results, ...j }) => ({ ...j, packages: results.length })),
        consistencyToken: token,
      };
    },
  }),
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/patches/packages`,
    permission: 'patches.read',
    area: 'patches',
    summary: 'Packages with pending upgrades, by the number of hosts affected, with the hosts and their versions',
    params: TENANT_PARAM,
    query: { limit: { type: 'string', pattern: '^[0-9]{1,3}$' }, cursor: { type: 'string', maxLength: 200 }, security: oneOf(['yes', 'no']) },
    handler: async (c: TenantContext<unknown, Record<string, string>>) => {
      const token = c.readToken();
      const limit = c.query.limit ? Math.min(Math.max(Number(c.query.limit), 1), 200) : 50;
      const p = await c.store.list<PatchPackageDoc>('patch-packages', {
        filter: c.query.security ? { security: c.query.security } : {},
        limit,
        ...(c.query.cursor ? { cursor: c.query.cursor } : {}),
      });
      return { items: p.items, nextCursor: p.nextCursor, consistencyToken: token };
    },
  }),
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/patches/trend`,
    permission: 'patches.read',
    area: 'patches',
    summary: "The tenant's compliance counts per day (UTC), oldest first; a day without inventories repeats the day before",
    params: TENANT_PARAM,
    query: { days: { type: 'string', pattern: '^[0-9]{1,3}$', description: `Days up to today, 1–${TREND_MAX_DAYS} (default 30).` } },
    handler: async (c: TenantContext<unknown, { days?: string }>) => {
      const token = c.readToken();
      const days = Math.min(Math.max(Number(c.query.days ?? 30), 1), TREND_MAX_DAYS);
      const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
      const first = today - (days - 1) * DAY_MS;
      // Newest first from the store; walk back past the window's first day to know where it starts.
      const docs: PatchTrendDoc[] = [];
      let cursor: string | null = null;
      do {
        const p: { items: PatchTrendDoc[]; nextCursor: string | null } = await c.store.list<PatchTrendDoc>('patch-trend', {
          limit: 200,
          ...(cursor ? { cursor } : {}),
        });
        docs.push(...p.items);
        cursor = Date.parse(p.items.at(-1)?.day ?? '9999-12-31') < first ? null : p.nextCursor;
      } while (cursor);
      const byDay = new Map(docs.map((d) => [d.day, d]));
      const before = docs.find((d) => Date.parse(d.day) < first) ?? null;
      const series = [];
      let last: PatchTrendDoc | null = before;
      for (let t = first; t <= today; t += DAY_MS) {
        const day = new Date(t).toISOString().slice(0, 10);
        last = byDay.get(day) ?? last;
        series.push({
          day,
          hosts: last?.hosts ?? 0,
          compliant: last?.compliant ?? 0,
          needingReboot: last?.needingReboot ?? 0,
          withOverdueUpdates: last?.withOverdueUpdates ?? 0,
          missingSecurity: last?.missingSecurity ?? 0,
          recorded: byDay.has(day),
        });
      }
      return { days, series, consistencyToken: token };
    },
  }),
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/patches/jobs`,
    permission: 'patches.read',
    area: 'patches',
    summary: 'install-patches jobs, newest first, with their outcome',
    params: TENANT_PARAM,
    query: { limit: { type: 'string', pattern: '^[0-9]{1,3}$' }, cursor: { type: 'string', maxLength: 200 }, agentId: ID },
    handler: async (c: TenantContext<unknown, Record<string, string>>) => {
      const token = c.readToken();
      const limit = c.query.limit ? Math.min(Math.max(Number(c.query.limit), 1), 200) : 50;
      const p = await c.store.list<PatchJobDoc>('patch-jobs', {
        filter: c.query.agentId ? { agentId: c.query.agentId } : {},
        limit,
        ...(c.query.cursor ? { cursor: c.query.cursor } : {}),
      });
      return { items: p.items.map(({ results, ...j }) => ({ ...j, packages: results.length })), nextCursor: p.nextCursor, consistencyToken: token };
    },
  }),
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/patches/jobs/:jobId`,
    permission: 'patches.read',
    area: 'patches',
    summary: "An install-patches job's result (its id is the command's): per package the versions from and to, the outcome, apt's exit status and output",
    params: { ...TENANT_PARAM, jobId: ID },
    handler: async (c: TenantContext<unknown, unknown, { jobId: string }>) => {
      const job = await mustGet<PatchJobDoc>(c, 'patch-jobs', c.params.jobId);
      return { ...job, hostname: await hostnameOf(c, job.agentId) };
    },
  }),
];
