// A demo host's patch inventory as `takeInventory` would read it from dpkg and apt, and the job
// result of an install-patches run, in the shapes `POST /agent/v1/inventory` takes.
import type { PatchInventory } from '../agent/patch/inventory.ts';
import type { HostPlan } from './book.ts';
import { installedPackages, OSES, pendingUpgrade, ROLE_TEMPLATES, UPDATE_OFFERS } from './hosts.ts';

const DAY_MS = 86_400_000;

/** The inventory taken at `takenAt`; packages in `installed` have been upgraded to their offer. */
export function inventoryOf(h: HostPlan, now: Date, takenAt: string, installed: ReadonlySet<string> = new Set()): PatchInventory {
  const offers = UPDATE_OFFERS[h.os];
  const packages = installedPackages(h.os, ROLE_TEMPLATES[h.role].packages).map((p) => {
    const offer = offers.find((o) => o.package === p.name);
    return installed.has(p.name) && offer ? { ...p, version: offer.to, sourceVersion: offer.to } : p;
  });
  const upgrades = h.missing
    .filter((m) => !installed.has(m.package))
    .flatMap((m) => {
      const offer = offers.find((o) => o.package === m.package);
      const from = packages.find((p) => p.name === m.package)?.version;
      if (!offer || !from) return [];
      const published = new Date(Math.floor((now.getTime() - m.daysAgo * DAY_MS) / 60_000) * 60_000).toISOString();
      return [pendingUpgrade(offer, h.os, from, published)];
    })
    .sort((a, b) => (a.package < b.package ? -1 : 1));
  // A kernel update installed but not booted into yet: the host asks for a reboot.
  const kernelWaiting = h.role === 'legacy' || [...installed].some((p) => offers.find((o) => o.package === p)?.reboot);
  return {
    kind: 'patch-inventory',
    takenAt,
    os: { ...OSES[h.os].release },
    packages,
    upgrades,
    newInstalls: [],
    removals: [],
    reboot: { required: kernelWaiting, packages: kernelWaiting ? [`linux-image-${OSES[h.os].kernel}`] : [] },
    listsRefreshed: true,
    warnings: [],
  };
}

/** The job result of installing `packages` (or simulating it) on `h`, as the agent posts it. */
export function jobOf(h: HostPlan, commandId: string, packages: readonly string[], dryRun: boolean, startedAt: string, finishedAt: string) {
  const offers = UPDATE_OFFERS[h.os];
  const installed = installedPackages(h.os, ROLE_TEMPLATES[h.role].packages);
  const results = packages.map((name) => {
    const from = installed.find((p) => p.name === name)?.version ?? null;
    const target = offers.find((o) => o.package === name)?.to ?? null;
    const upgraded = !dryRun && from !== null && target !== null;
    const output = dryRun
      ? `Inst ${name} [${from}] (${target} ${OSES[h.os].release.codename}-security [amd64])\nConf ${name} (${target} ${OSES[h.os].release.codename}-security [amd64])`
      : `Reading package lists...\nBuilding dependency tree...\nThe following packages will be upgraded:\n  ${name}\n1 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\nSetting up ${name} (${target}) ...`;
    return {
      package: name,
      from,
      target,
      to: upgraded ? target : from,
      outcome: from === null ? ('not-installed' as const) : dryRun ? ('would-upgrade' as const) : ('upgraded' as const),
      exitCode: 0,
      output,
      outputTruncated: false,
      alsoChanged: [],
    };
  });
  return {
    commandId,
    mode: 'packages' as const,
    dryRun,
    startedAt,
    finishedAt,
    listsRefreshed: true,
    succeeded: true,
    rebootRequired: !dryRun && packages.some((p) => offers.find((o) => o.package === p)?.reboot),
    results,
  };
}
