/**
 * Patch agent figures: an inventory of a prepared root (real dpkg-query and apt runs against local
 * `file:` repositories) and the parse of a 2,000-package dpkg status file, each beside reading the
 * same status file raw in the same run. Runs alone with `node --import tsx bench/patch.ts`; the
 * lead adds `patch: benchPatch` to bench/parts.ts.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { listInstalled, openHostRoot, parseDeb822, takeInventory } from '../src/agent/patch/mod.ts';
import { patchRepoFixture, prepareRoot } from '../test/helpers/debrepo.ts';
import { tempDir } from '../test/helpers/nats.ts';
import { fmt, measure } from './util.ts';

const PACKAGES = 2_000;

/** One figure as a time per operation beside the raw read of the status file, and how many times longer it takes. */
function reportMs(label: string, ms: number, rawMs: number): void {
  console.log(`  ${label.padEnd(58)} ${fmt(ms)} ms   vs raw read of the status file ${fmt(rawMs)} ms   ratio ${(ms / rawMs).toFixed(1)}×`);
}

/** A consistent status file of `n` installed packages shaped like Debian's (multi-line descriptions, depends, conffiles). */
function statusFile(n: number): string {
  const stanzas: string[] = [];
  for (let i = 0; i < n; i++) {
    stanzas.push(
      [
        `Package: bench-pkg-${i}`,
        'Status: install ok installed',
        'Priority: optional',
        'Section: libs',
        `Installed-Size: ${100 + (i % 900)}`,
        'Maintainer: Debian Bench Maintainers <bench@example.invalid>',
        'Architecture: amd64',
        'Multi-Arch: same',
        `Source: bench-src-${Math.floor(i / 3)}`,
        `Version: ${1 + (i % 7)}.${i % 13}.${i % 5}-${1 + (i % 3)}+deb12u${i % 9}`,
        `Depends: bench-pkg-${(i + 1) % n} (>= 0.1), bench-pkg-${(i + 7) % n}`,
        ...(i % 10 === 0 ? ['Conffiles:', ` /etc/bench/${i}.conf 0123456789abcdef0123456789abcdef`] : []),
        `Description: bench package number ${i}`,
        ' This package exists to make a status file of realistic size and shape.',
        ' .',
        ' It carries a second paragraph, as most Debian descriptions do.',
        `Homepage: https://bench.example.invalid/${i}`,
      ].join('\n'),
    );
  }
  return `${stanzas.join('\n\n')}\n`;
}

/** Inventory of a prepared root and parse of a 2,000-package status file, beside raw reads of the status file. */
export async function benchPatch(): Promise<void> {
  const dir = await tempDir('stk-bench-patch-');
  try {
    const fx = await patchRepoFixture(dir.path);
    const root = await fx.freshRoot();
    const big = join(dir.path, 'root-big');
    await prepareRoot(big, []);
    const bigStatus = join(big, 'var/lib/dpkg/status');
    await writeFile(bigStatus, statusFile(PACKAGES));
    const smallStatus = join(root, 'var/lib/dpkg/status');

    const rawSmall = await measure(200, 1, () => readFile(smallStatus, 'utf8'));
    const rawBig = await measure(200, 1, () => readFile(bigStatus, 'utf8'));
    const text = await readFile(bigStatus, 'utf8');
    console.log(`  status file: ${PACKAGES} packages, ${(Buffer.byteLength(text) / 1e6).toFixed(2)} MB`);

    const parse = await measure(50, 1, async () => {
      const stanzas = parseDeb822(await readFile(bigStatus, 'utf8'));
      if (stanzas.length !== PACKAGES) throw new Error(`parsed ${stanzas.length} stanzas`);
    });
    reportMs(`read + parse ${PACKAGES}-package status file (parseDeb822)`, 1000 / parse, 1000 / rawBig);

    const bigHost = await openHostRoot(big);
    try {
      const listed = await measure(20, 1, async () => {
        const pkgs = await listInstalled(bigHost);
        if (pkgs.length !== PACKAGES) throw new Error(`listed ${pkgs.length}`);
      });
      reportMs(`dpkg-query listing of a ${PACKAGES}-package root`, 1000 / listed, 1000 / rawBig);
    } finally {
      await bigHost.close();
    }
    const bigInventory = await measure(5, 1, async () => {
      const inv = await takeInventory({ root: big, refresh: false, cve: 'off' });
      if (inv.packages.length !== PACKAGES) throw new Error(`inventory has ${inv.packages.length}`);
    });
    reportMs(`inventory, ${PACKAGES}-package root (no refresh, no CVE)`, 1000 / bigInventory, 1000 / rawBig);

    // The lists are fetched once (apt-get update) before the no-refresh figures.
    await takeInventory({ root, refresh: true, cve: 'off' });
    const quick = await measure(10, 1, async () => {
      const inv = await takeInventory({ root, refresh: false, cve: 'off' });
      if (inv.upgrades.length !== 3) throw new Error('expected 3 pending upgrades');
    });
    reportMs('inventory, prepared root (no refresh, no CVE)', 1000 / quick, 1000 / rawSmall);
    const full = await measure(5, 1, async () => {
      const inv = await takeInventory({ root, refresh: true, cve: 'changelog' });
      if (inv.upgrades.find((u) => u.package === 'stk-demo')?.cves.length !== 2) throw new Error('expected the changelog CVEs');
    });
    reportMs('inventory, prepared root (apt-get update, changelog CVEs)', 1000 / full, 1000 / rawSmall);
  } finally {
    await dir.cleanup();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log('\n== patch ==');
  await benchPatch();
}
