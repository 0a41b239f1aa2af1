// One section from spec to files: screens, voice, timeline, narration, encode, checks, and only
// then into place. Everything is made in a temp folder; the output folder gets the finished files
// or nothing.
import { copyFile, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StkError } from '../errors.ts';
import { encodeVideo, fitTruePeak, narrationTrack, normaliseLoudness, poster } from './assemble.ts';
import { type CheckResult, checkVideo } from './checks.ts';
import { Ffmpeg } from './ffmpeg.ts';
import { captureSteps } from './screens.ts';
import { type VideoSpec, VIDEO_SIZE, withTenant } from './spec.ts';
import { buildTimeline, DEFAULT_TIMING, type Timeline, type Timing, webVtt } from './timeline.ts';
import { findChromium, findFfmpeg } from './tools.ts';
import { findVoice, type Sentence, speakSentence, type VoiceEngine } from './voice.ts';

/** What a render reports while it works. */
export interface Progress {
  /** 1-based number of the section in this run, and how many the run has. */
  section: number;
  sections: number;
  name: string;
  phase: 'screens' | 'voice' | 'narration' | 'encode' | 'check' | 'done';
  step?: number;
  steps?: number;
  /** 0–1 through the encode. */
  fraction?: number;
}

/** The programs a render uses, found before any work starts. */
export interface Toolset {
  ff: Ffmpeg;
  chromium: string;
  voice: VoiceEngine;
}

/** Finds ffmpeg, chromium and a voice; throws STK_ERR_VIDEO_TOOL_MISSING naming the first one missing. */
export function findToolset(env: NodeJS.ProcessEnv = process.env): Toolset {
  return { ff: new Ffmpeg(findFfmpeg(env)), chromium: findChromium(env), voice: findVoice(env) };
}

export interface RenderOptions {
  /** The install's base URL; the dashboard is under `/ui`. */
  base: string;
  credential: string;
  /** Where the finished files go (`docs/videos`). */
  outDir: string;
  tools: Toolset;
  /** Replaces the specs' own tenant in `{tenant}`. */
  tenant?: string;
  burnCaptions?: boolean;
  /** Run the checks before a video is moved into place; a failed check keeps it out. */
  check?: boolean;
  timing?: Timing;
  timeoutMs?: number;
  /** Keep the temp folder and return it (tests look at its pictures); the caller removes it. */
  keepWork?: boolean;
  onProgress?: (p: Progress) => void;
  /** Position of this section in the run, for progress. */
  position?: { section: number; sections: number };
}

/** A finished section. */
export interface RenderedSection {
  name: string;
  title: string;
  video: string;
  vtt: string;
  poster: string;
  durationS: number;
  voice: string;
  loudnorm: string;
  timeline: Timeline;
  checks?: CheckResult[];
  /** With keepWork: the temp folder, its pictures and its video (a copy of what was moved into place). */
  work?: { dir: string; shots: string[]; video: string; vtt: string };
}

/** Renders one section and moves its video, subtitles and poster into `outDir` when (and only when) all of it succeeded. */
export async function renderSection(specIn: VideoSpec, o: RenderOptions): Promise<RenderedSection> {
  const spec = withTenant(specIn, o.tenant);
  const { ff, voice } = o.tools;
  const where = o.position ?? { section: 1, sections: 1 };
  const report = (p: Omit<Progress, 'section' | 'sections' | 'name'>): void => o.onProgress?.({ ...where, name: spec.name, ...p });
  const work = await mkdtemp(join(tmpdir(), `stk-video-${spec.name}-`));
  let keep = false;
  try {
    const shotsDir = join(work, 'screens');
    await mkdir(shotsDir);
    const captured = await captureSteps(spec, {
      base: o.base,
      credential: o.credential,
      chromium: o.tools.chromium,
      outDir: shotsDir,
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
      onStep: (step, steps) => report({ phase: 'screens', step, steps }),
    });

    const voiceDir = join(work, 'voice');
    await mkdir(voiceDir);
    const spoken: Sentence[][] = [];
    for (const [i, step] of spec.steps.entries()) {
      report({ phase: 'voice', step: i + 1, steps: spec.steps.length });
      const said: Sentence[] = [];
      for (const [k, text] of step.say.entries()) said.push(await speakSentence(voice, ff, text.trim(), join(voiceDir, `s${i + 1}-${k + 1}.wav`), voiceDir));
      spoken.push(said);
    }

    const timeline = buildTimeline(
      spoken.map((said, i) => ({
        sentences: said.map((s) => ({ text: s.text, samples: s.samples })),
        ...(captured[i]!.box ? { point: captured[i]!.box } : {}),
      })),
      VIDEO_SIZE,
      o.timing ?? DEFAULT_TIMING,
    );
    report({ phase: 'narration' });
    const raw = join(work, 'narration-raw.wav');
    const narration = join(work, 'narration.wav');
    await narrationTrack(
      ff,
      timeline,
      spoken.map((said) => said.map((s) => s.file)),
      raw,
    );
    const loud = await normaliseLoudness(ff, raw, narration, timeline.totalSamples, timeline.timing.sampleRate);
    await fitTruePeak(ff, narration);

    const video = join(work, `${spec.name}.mp4`);
    const vtt = join(work, `${spec.name}.vtt`);
    const png = join(work, `${spec.name}.png`);
    const vttText = webVtt(timeline);
    await writeFile(vtt, vttText);
    let reported = -1;
    await encodeVideo(
      ff,
      timeline,
      captured.map((c) => c.screenshot),
      narration,
      video,
      work,
      {
        ...(o.burnCaptions ? { burnCaptions: true } : {}),
        onProgress: (fraction) => {
          const tenth = Math.floor(fraction * 10);
          if (tenth !== reported) {
            reported = tenth;
            report({ phase: 'encode', fraction });
          }
        },
      },
    );
    await poster(ff, video, timeline.steps[0]!.middleS, png);

    let checks: CheckResult[] | undefined;
    if (o.check) {
      report({ phase: 'check' });
      checks = await checkVideo(ff, { video, vtt, timeline, shots: captured.map((c) => c.screenshot), burnedCaptions: o.burnCaptions ?? false }, vttText);
      const failed = checks.filter((c) => !c.ok);
      if (failed.length)
        throw new StkError('STK_ERR_VIDEO_CHECK_FAILED', `${spec.name}: ${failed.map((c) => `${c.name}: ${c.detail}`).join(' | ')}`, {
          file: spec.file,
          checks: failed,
        });
    }

    const finals = { video: join(o.outDir, `${spec.name}.mp4`), vtt: join(o.outDir, `${spec.name}.vtt`), poster: join(o.outDir, `${spec.name}.png`) };
    await placeAll([
      [video, finals.video],
      [vtt, finals.vtt],
      [png, finals.poster],
    ]);
    report({ phase: 'done' });
    keep = o.keepWork ?? false;
    return {
      name: spec.name,
      title: spec.title,
      ...finals,
      durationS: timeline.totalS,
      voice: voice.name,
      loudnorm: loud.mode,
      timeline,
      ...(checks ? { checks } : {}),
      ...(keep ? { work: { dir: work, shots: captured.map((c) => c.screenshot), video, vtt } } : {}),
    };
  } finally {
    if (!keep) await rm(work, { recursive: true, force: true });
  }
}

/**
 * Copies finished files next to their final names first (the temp folder may be on another file
 * system), then renames them into place; a copy that fails leaves no partial file behind.
 */
async function placeAll(pairs: Array<[string, string]>): Promise<void> {
  const staged: Array<[string, string]> = [];
  try {
    for (const [from, to] of pairs) {
      await mkdir(join(to, '..'), { recursive: true });
      const tmp = join(to, '..', `.${to.split('/').at(-1)}.partial-${process.pid}`);
      staged.push([tmp, to]);
      await copyFile(from, tmp);
    }
    for (const [tmp, to] of staged) await rename(tmp, to);
  } catch (err) {
    await Promise.all(staged.map(([tmp]) => rm(tmp, { force: true })));
    throw err;
  }
}
