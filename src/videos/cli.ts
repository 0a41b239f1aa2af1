// `npm run videos` and `stockade docs videos`: the same options, the same action.
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { StkError } from '../errors.ts';
import type { TemporaryInstall } from './install.ts';
import type { Progress, RenderedSection } from './render.ts';
import type { SeededInstall } from './videos.ts';

interface Flags {
  api?: string;
  credentialFile?: string;
  specs: string;
  out: string;
  only?: string;
  tenant?: string;
  captions?: boolean;
  check?: boolean;
  timeout: string;
  seed: string;
  customers: string;
}

function progressLine(p: Progress): string {
  const head = `[${p.section}/${p.sections}] ${p.name}:`;
  switch (p.phase) {
    case 'screens':
    case 'voice':
      return `${head} ${p.phase}, step ${p.step} of ${p.steps}`;
    case 'encode':
      return `${head} encoding ${Math.round((p.fraction ?? 0) * 100)}%`;
    case 'check':
      return `${head} checking`;
    default:
      return `${head} ${p.phase}`;
  }
}

/** A path as the user would type it: relative when it is under the working folder. */
function shown(path: string): string {
  const r = relative(process.cwd(), path);
  return r.startsWith('..') || isAbsolute(r) ? path : r;
}

function doneLines(r: RenderedSection, sizeBytes: number): string[] {
  const m = Math.floor(r.durationS / 60);
  const s = Math.round(r.durationS % 60);
  const lines = [
    `[done] ${r.name}: ${shown(r.video)} (${m}:${String(s).padStart(2, '0')}, ${(sizeBytes / 1e6).toFixed(1)} MB, voice ${r.voice}, loudnorm ${r.loudnorm})`,
  ];
  for (const c of r.checks ?? []) lines.push(`    ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
  return lines;
}

/** Fills a temporary install with the demo book; its agents stay connected while the sections are filmed. */
async function seedInstall(t: TemporaryInstall, seed: string, customers: number): Promise<SeededInstall> {
  const { seedDemo } = await import('../demo/mod.ts');
  const seeded = await seedDemo({
    target: { api: t.base, adminKey: t.credential, ingressUrl: t.ingressUrl, caPem: await t.caPem() },
    seed,
    customers,
    progress: (line) => console.error(`demo: ${line}`),
  });
  return { tenant: seeded.summary.flagship, heartbeat: seeded.heartbeat, close: seeded.close };
}

/** Adds the options and the action of the video pipeline to `cmd`. */
export function videosCommand(cmd: Command): Command {
  return cmd
    .description('render the narrated how-to videos from docs/videos/specs into docs/videos (docs/videos/specs/README.md)')
    .option('--api <url>', 'base URL of a running install to film (without it, a temporary install is started and filled with `stockade demo seed`)')
    .option('--credential-file <file>', 'file holding the admin key or a tenant token to sign in with (needed with --api)')
    .option('--specs <dir>', 'folder of NN-name.yaml specs', 'docs/videos/specs')
    .option('--out <dir>', 'where the videos, subtitles, posters and README go', 'docs/videos')
    .option('--only <list>', 'only these sections, by number or name, comma-separated (03,05 or 03-alerts)')
    .option('--tenant <id>', "the customer to film, instead of each spec's own tenant")
    .option('--captions', 'burn the subtitles into the picture too')
    .option('--check', 'check every video (streams, duration, loudness, cues, frames, pointer) before it is moved into place')
    .option('--timeout <ms>', 'longest wait for a page or an element', '30000')
    .option('--seed <seed>', 'the demo seed that fills the temporary install (not with --api)', '1')
    .option('--customers <n>', 'demo customers in the temporary install (not with --api)', '4')
    .action(async (f: Flags) => {
      let install: { base: string; credential: string } | undefined;
      if (f.api) {
        if (!f.credentialFile) throw new StkError('STK_ERR_CONFIG', '--api needs --credential-file (a file holding the admin key or a tenant token)');
        const credential = (await readFile(resolve(f.credentialFile), 'utf8')).trim();
        if (!credential) throw new StkError('STK_ERR_CONFIG', `${f.credentialFile} is empty`);
        install = { base: f.api.replace(/\/+$/, ''), credential };
      } else {
        console.error(`videos: no --api given: starting a temporary install and filling it with the demo (seed ${f.seed}, ${f.customers} customers)`);
      }
      const customers = Number(f.customers);
      if (!Number.isInteger(customers) || customers < 1) throw new StkError('STK_ERR_CONFIG', '--customers must be a whole number, at least 1');
      const timeoutMs = Number(f.timeout);
      if (!Number.isInteger(timeoutMs) || timeoutMs < 1000) throw new StkError('STK_ERR_CONFIG', '--timeout must be a whole number of ms, at least 1000');
      const tty = process.stderr.isTTY;
      let open = false;
      const out = (line: string, final = false): void => {
        if (tty) process.stderr.write(`\r\x1b[K${line}${final ? '\n' : ''}`);
        else process.stderr.write(`${line}\n`);
        open = tty && !final;
      };
      // Loaded here, so that `stockade` commands other than this one never load the pipeline.
      const { renderVideos } = await import('./videos.ts');
      const result = await renderVideos({
        specsDir: resolve(f.specs),
        outDir: resolve(f.out),
        ...(install ? { install } : { seed: (t: TemporaryInstall) => seedInstall(t, f.seed, customers) }),
        ...(f.only
          ? {
              only: f.only
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean),
            }
          : {}),
        ...(f.tenant ? { tenant: f.tenant } : {}),
        ...(f.captions ? { burnCaptions: true } : {}),
        ...(f.check ? { check: true } : {}),
        timeoutMs,
        onProgress: (p) => out(progressLine(p)),
        onSectionDone: (r) => {
          for (const line of doneLines(r, statSync(r.video).size)) out(line, true);
        },
      }).finally(() => {
        if (open) process.stderr.write('\n');
      });
      for (const { name, error } of result.failed) {
        console.error(`[failed] ${name}: ${error.message} (${error.code})`);
        if (error.code === 'STK_ERR_VIDEO_CHECK_FAILED')
          for (const c of error.data.checks as Array<{ name: string; detail: string }>) console.error(`    FAIL ${c.name}: ${c.detail}`);
      }
      console.log(`${result.rendered.length} rendered, ${result.failed.length} failed; ${shown(resolve(f.out, 'README.md'))} updated`);
      if (result.failed.length) process.exitCode = 1;
    });
}

/** `stockade docs videos`. */
export function registerDocs(program: Command): void {
  videosCommand(program.command('docs').description('documentation built from a running install').command('videos'));
}
