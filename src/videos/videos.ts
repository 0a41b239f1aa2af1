// Every section of a folder of specs, one after the other, then the README. A section that fails
// is reported and leaves its previous files as they were; the others go on.
import { mkdir } from 'node:fs/promises';
import { isStkError, StkError } from '../errors.ts';
import { type Install, startTemporaryInstall, type TemporaryInstall } from './install.ts';
import { writeReadme } from './readme.ts';
import { findToolset, type Progress, type RenderedSection, renderSection, type Toolset } from './render.ts';
import { loadSpecs, type VideoSpec } from './spec.ts';

export interface VideosOptions {
  specsDir: string;
  outDir: string;
  /** A running install to film; without it a temporary one is started (and `seed` fills it). */
  install?: Install;
  /** Fills a temporary install before filming (the demo data); not called for a given install. */
  seed?: (install: TemporaryInstall) => Promise<SeededInstall | undefined>;
  /** Only these sections: their numbers (`03`) or names (`03-alerts`). */
  only?: string[];
  tenant?: string;
  burnCaptions?: boolean;
  check?: boolean;
  timeoutMs?: number;
  tools?: Toolset;
  onProgress?: (p: Progress) => void;
  onSectionDone?: (r: RenderedSection) => void;
}

/** What filling a temporary install left running: its agents, and the customer to film. */
export interface SeededInstall {
  /** The customer the sections film unless `tenant` is given. */
  tenant?: string;
  /** Keeps the install's agents online: called before each section (agents count as offline after 5 minutes of silence). */
  heartbeat?(): Promise<void>;
  close?(): void;
}

export interface VideosResult {
  rendered: RenderedSection[];
  failed: Array<{ name: string; error: StkError }>;
  /** Every spec of the folder (also those not rendered this run). */
  specs: VideoSpec[];
}

function selected(specs: VideoSpec[], only: string[] | undefined): VideoSpec[] {
  if (!only?.length) return specs;
  const picked = specs.filter((s) => only.some((o) => s.name === o || s.name.slice(0, 2) === o.padStart(2, '0')));
  const unknown = only.filter((o) => !specs.some((s) => s.name === o || s.name.slice(0, 2) === o.padStart(2, '0')));
  if (unknown.length) throw new StkError('STK_ERR_CONFIG', `no spec for ${unknown.join(', ')}`, { only: unknown });
  return picked;
}

/** Renders the sections of `specsDir` into `outDir` and rewrites `outDir/README.md`. */
export async function renderVideos(o: VideosOptions): Promise<VideosResult> {
  // Everything that can be found missing is found before an install starts or a browser opens.
  const tools = o.tools ?? findToolset();
  const specs = await loadSpecs(o.specsDir);
  const chosen = selected(specs, o.only);
  await mkdir(o.outDir, { recursive: true });
  let temporary: TemporaryInstall | undefined;
  let seeded: SeededInstall | undefined;
  const rendered: RenderedSection[] = [];
  const failed: VideosResult['failed'] = [];
  try {
    let install = o.install;
    if (!install) {
      temporary = await startTemporaryInstall();
      if (o.seed) seeded = await o.seed(temporary);
      install = temporary;
    }
    const tenant = o.tenant ?? seeded?.tenant;
    for (const [i, spec] of chosen.entries()) {
      try {
        await seeded?.heartbeat?.();
        const r = await renderSection(spec, {
          base: install.base,
          credential: install.credential,
          outDir: o.outDir,
          tools,
          position: { section: i + 1, sections: chosen.length },
          ...(tenant !== undefined ? { tenant } : {}),
          ...(o.burnCaptions ? { burnCaptions: true } : {}),
          ...(o.check ? { check: true } : {}),
          ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
          ...(o.onProgress ? { onProgress: o.onProgress } : {}),
        });
        rendered.push(r);
        o.onSectionDone?.(r);
      } catch (err) {
        // A missing tool or a refused credential ends the run: the next section would fail the same way.
        if (isStkError(err, 'STK_ERR_VIDEO_TOOL_MISSING') || isStkError(err, 'STK_ERR_VIDEO_SIGN_IN_FAILED') || !isStkError(err)) throw err;
        failed.push({ name: spec.name, error: err });
      }
    }
  } finally {
    seeded?.close?.();
    await temporary?.close();
  }
  await writeReadme(tools.ff, specs, o.outDir);
  return { rendered, failed, specs };
}
