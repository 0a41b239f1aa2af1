// Checks that measure a rendered video against the plan it was rendered from (its timeline). Each
// one measures the video itself (ffprobe, ebur128, silencedetect, decoded frames), so a video
// that does not hold what the plan says fails, whatever went wrong on the way.
import { isStkError } from '../errors.ts';
import type { Ffmpeg } from './ffmpeg.ts';
import { LOUDNESS, measureLoudness } from './assemble.ts';
import { isPointerColour, POINTER_TILE } from './pointer.ts';
import { parseVtt, pointerAt, type Timeline } from './timeline.ts';

/** What the checks need: the files and the plan. */
export interface CheckInput {
  video: string;
  vtt: string;
  timeline: Timeline;
  /** Each step's picture, as captured (the video's size). */
  shots: string[];
  /** Captions burned into the picture: their band is left out of the frame comparison. */
  burnedCaptions?: boolean;
}

export type CheckName = 'streams' | 'duration' | 'loudness' | 'cues' | 'frames' | 'pointer';

/** The outcome of one check: a value, never a throw, so every check of a video is reported. */
export interface CheckResult {
  name: CheckName;
  ok: boolean;
  detail: string;
}

/** Tolerances of the checks. */
export const LIMITS = {
  durationS: 0.2,
  loudnessLu: 1,
  cueMs: 50,
  /** Mean absolute difference (0–255, over R, G and B) between a frame and its step's picture. */
  frameMad: 3,
  /** Fewest pointer-coloured pixels that count as "the pointer is on screen". */
  pointerPixels: 40,
} as const;

const ok = (name: CheckName, detail: string): CheckResult => ({ name, ok: true, detail });
const bad = (name: CheckName, detail: string): CheckResult => ({ name, ok: false, detail });

async function streams(ff: Ffmpeg, c: CheckInput): Promise<{ result: CheckResult; durations: number[] }> {
  const p = await ff.probe(c.video);
  const v = p.streams.filter((s) => s.codec_type === 'video');
  const a = p.streams.filter((s) => s.codec_type === 'audio');
  const durations = [Number(p.format.duration), ...p.streams.map((s) => Number(s.duration))];
  const { width, height } = c.timeline.size;
  const problems: string[] = [];
  if (v.length !== 1 || v[0]!.codec_name !== 'h264') problems.push(`video streams: ${v.map((s) => s.codec_name).join(',') || 'none'} (want one h264)`);
  else if (v[0]!.pix_fmt !== 'yuv420p' || v[0]!.width !== width || v[0]!.height !== height)
    problems.push(`video is ${v[0]!.width}×${v[0]!.height} ${v[0]!.pix_fmt} (want ${width}×${height} yuv420p)`);
  if (a.length !== 1 || a[0]!.codec_name !== 'aac') problems.push(`audio streams: ${a.map((s) => s.codec_name).join(',') || 'none'} (want one aac)`);
  const result = problems.length ? bad('streams', problems.join('; ')) : ok('streams', `one h264 ${width}×${height} yuv420p, one aac`);
  return { result, durations };
}

function duration(c: CheckInput, durations: number[]): CheckResult {
  const tl = c.timeline;
  const speech = tl.steps.flatMap((s) => s.sentences).reduce((acc, s) => acc + s.samples, 0) / tl.timing.sampleRate;
  const pauses = tl.steps.reduce((acc, s) => acc + s.samples - s.sentences.reduce((n, x) => n + x.samples, 0), 0) / tl.timing.sampleRate;
  const transitions = (tl.steps.length - 1) * tl.transitionS;
  const expected = speech + pauses + transitions;
  const off = durations.filter((d) => !Number.isFinite(d) || Math.abs(d - expected) > LIMITS.durationS);
  const text = `container and streams ${durations.map((d) => d.toFixed(2)).join('/')} s; expected ${expected.toFixed(2)} s = speech ${speech.toFixed(2)} + pauses ${pauses.toFixed(2)} + transitions ${transitions.toFixed(2)}`;
  return off.length ? bad('duration', text) : ok('duration', text);
}

async function loudness(ff: Ffmpeg, c: CheckInput): Promise<CheckResult> {
  const { integratedLufs: integrated, truePeakDbtp: peak } = await measureLoudness(ff, c.video);
  const text = `integrated ${integrated} LUFS (want ${LOUDNESS.integratedLufs} ± ${LIMITS.loudnessLu}), true peak ${peak} dBTP (want ≤ ${LOUDNESS.truePeakDbtp})`;
  const good = Math.abs(integrated - LOUDNESS.integratedLufs) <= LIMITS.loudnessLu && peak <= LOUDNESS.truePeakDbtp;
  return good ? ok('loudness', text) : bad('loudness', text);
}

/** Where sound starts after a silence, in the video's own audio. */
async function onsets(ff: Ffmpeg, video: string): Promise<number[]> {
  const { stderr } = await ff.run(['-v', 'info', '-i', video, '-map', '0:a:0', '-af', 'silencedetect=noise=-45dB:d=0.25', '-f', 'null', '-']);
  return [...stderr.matchAll(/silence_end: (-?[\d.]+)/g)].map((m) => Number(m[1]));
}

async function cues(ff: Ffmpeg, c: CheckInput, vttText: string): Promise<CheckResult> {
  const sentences = c.timeline.steps.flatMap((s) => s.sentences);
  const found = parseVtt(vttText);
  if (found.length !== sentences.length) return bad('cues', `${found.length} cues for ${sentences.length} sentences`);
  const starts = await onsets(ff, c.video);
  const problems: string[] = [];
  let worst = 0;
  found.forEach((cue, i) => {
    if (cue.text !== sentences[i]!.text) problems.push(`cue ${i + 1} says ${JSON.stringify(cue.text)}, its sentence ${JSON.stringify(sentences[i]!.text)}`);
    const nearest = starts.reduce((best, s) => (Math.abs(s - cue.startS) < Math.abs(best - cue.startS) ? s : best), Number.POSITIVE_INFINITY);
    const offMs = Math.abs(nearest - cue.startS) * 1000;
    worst = Math.max(worst, offMs);
    if (offMs > LIMITS.cueMs) problems.push(`cue ${i + 1} starts at ${cue.startS.toFixed(3)} s, the nearest sound starts at ${nearest.toFixed(3)} s`);
  });
  return problems.length
    ? bad('cues', problems.join('; '))
    : ok('cues', `${found.length} cues, each within ${worst.toFixed(0)} ms of its sentence's first sound`);
}

/** Decodes the frames with these numbers in one pass, to raw RGB at the video's size, in ascending order. */
async function frames(ff: Ffmpeg, video: string, numbers: number[], size: { width: number; height: number }): Promise<Map<number, Buffer>> {
  const wanted = [...new Set(numbers)].sort((a, b) => a - b);
  const pick = wanted.map((n) => `eq(n,${n})`).join('+');
  const { stdout } = await ff.run([
    '-v',
    'error',
    '-i',
    video,
    '-map',
    '0:v:0',
    '-vf',
    `select='${pick}'`,
    '-fps_mode',
    'passthrough',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  ]);
  const bytes = size.width * size.height * 3;
  const out = new Map<number, Buffer>();
  wanted.forEach((n, i) => {
    if (stdout.length >= (i + 1) * bytes) out.set(n, stdout.subarray(i * bytes, (i + 1) * bytes));
  });
  return out;
}

/** A step's picture as the video carries it: the same scaling and the same trip through YUV 4:2:0. */
async function reference(ff: Ffmpeg, shot: string, size: { width: number; height: number }): Promise<Buffer> {
  const { stdout } = await ff.run([
    '-v',
    'error',
    '-i',
    shot,
    '-vf',
    `scale=${size.width}:${size.height}:flags=lanczos,format=gbrp,format=yuv420p`,
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  ]);
  return stdout;
}

interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Mean absolute difference of two RGB pictures, leaving out the `masks`. */
export function meanAbsDiff(a: Buffer, b: Buffer, width: number, height: number, masks: Rect[]): number {
  let sum = 0;
  let count = 0;
  for (let y = 0; y < height; y++) {
    const rowMasks = masks.filter((m) => y >= m.y0 && y < m.y1);
    for (let x = 0; x < width; x++) {
      if (rowMasks.some((m) => x >= m.x0 && x < m.x1)) continue;
      const o = (y * width + x) * 3;
      sum += Math.abs(a[o]! - b[o]!) + Math.abs(a[o + 1]! - b[o + 1]!) + Math.abs(a[o + 2]! - b[o + 2]!);
      count += 3;
    }
  }
  return count ? sum / count : 0;
}

/** The pointer's tip in a frame: the top-left of the pixels of its colour that the step's picture does not have there. */
export function findPointer(frame: Buffer, ref: Buffer, width: number, height: number): { x: number; y: number; pixels: number } | null {
  let minX = Number.POSITIVE_INFINITY;
  let minY = Number.POSITIVE_INFINITY;
  let pixels = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      if (!isPointerColour(frame[o]!, frame[o + 1]!, frame[o + 2]!) || isPointerColour(ref[o]!, ref[o + 1]!, ref[o + 2]!)) continue;
      pixels++;
      if (x < minX) minX = x;
      if (y < minY) minY = y;
    }
  }
  return pixels ? { x: minX, y: minY, pixels } : null;
}

function pointerMask(tl: Timeline, t: number): Rect {
  const p = pointerAt(tl, t);
  const pad = 4;
  return {
    x0: Math.floor(p.x) - POINTER_TILE.tipX - pad,
    y0: Math.floor(p.y) - POINTER_TILE.tipY - pad,
    x1: Math.floor(p.x) - POINTER_TILE.tipX + POINTER_TILE.width + 1 + pad,
    y1: Math.floor(p.y) - POINTER_TILE.tipY + POINTER_TILE.height + 1 + pad,
  };
}

function frameCheck(tl: Timeline, decoded: Map<number, Buffer>, refs: Buffer[], middles: number[], extraMasks: Rect[]): CheckResult {
  const { width, height } = tl.size;
  const problems: string[] = [];
  let worst = 0;
  for (const [i, st] of tl.steps.entries()) {
    const f = decoded.get(middles[i]!);
    if (!f) {
      problems.push(`step ${i + 1}: no frame at ${st.middleS.toFixed(2)} s`);
      continue;
    }
    const mad = meanAbsDiff(f, refs[i]!, width, height, [pointerMask(tl, middles[i]! / tl.timing.fps), ...extraMasks]);
    worst = Math.max(worst, mad);
    if (mad > LIMITS.frameMad) problems.push(`step ${i + 1}: the frame at ${st.middleS.toFixed(2)} s differs from its picture by ${mad.toFixed(2)}`);
  }
  return problems.length
    ? bad('frames', problems.join('; '))
    : ok('frames', `the middle of each of ${tl.steps.length} steps matches its picture (worst mean difference ${worst.toFixed(2)} of ${LIMITS.frameMad})`);
}

function pointerCheck(tl: Timeline, decoded: Map<number, Buffer>, refs: Buffer[], ends: number[][]): CheckResult {
  const { width, height } = tl.size;
  const problems: string[] = [];
  let looked = 0;
  for (const [i, st] of tl.steps.entries()) {
    const b = st.point;
    if (!b) continue;
    for (const [k, n] of ends[i]!.entries()) {
      looked++;
      const where = `step ${i + 1}, sentence ${k + 1}`;
      const f = decoded.get(n);
      const p = f ? findPointer(f, refs[i]!, width, height) : null;
      if (!p || p.pixels < LIMITS.pointerPixels) {
        problems.push(`${where}: no pointer on screen`);
        continue;
      }
      const inside = p.x >= b.x && p.x <= b.x + b.width && p.y >= b.y && p.y <= b.y + b.height;
      if (!inside)
        problems.push(
          `${where}: the pointer is at (${p.x}, ${p.y}), outside its element (${b.x.toFixed(0)}, ${b.y.toFixed(0)}, ${b.width.toFixed(0)}×${b.height.toFixed(0)})`,
        );
    }
  }
  return problems.length ? bad('pointer', problems.join('; ')) : ok('pointer', `inside its element at the end of each of ${looked} sentences`);
}

/** Runs every check on a rendered video. */
export async function checkVideo(ff: Ffmpeg, c: CheckInput, vttText: string): Promise<CheckResult[]> {
  const tl = c.timeline;
  const { width, height } = tl.size;
  const fps = tl.timing.fps;
  const frameAt = (t: number): number => Math.floor(t * fps + 1e-6);
  // A video too broken to measure (no audio stream to analyse, no frames to decode) fails the
  // check that needed it; the other checks still run.
  const guard = async (names: CheckName[], fn: () => Promise<CheckResult[]>): Promise<CheckResult[]> => {
    try {
      return await fn();
    } catch (err) {
      if (!isStkError(err, 'STK_ERR_VIDEO_RENDER_FAILED')) throw err;
      return names.map((name) => bad(name, `could not be measured: ${err.message}`));
    }
  };
  const results = await guard(['streams', 'duration'], async () => {
    const s = await streams(ff, c);
    return [s.result, duration(c, s.durations)];
  });
  results.push(...(await guard(['loudness'], async () => [await loudness(ff, c)])), ...(await guard(['cues'], async () => [await cues(ff, c, vttText)])));

  // Frames: the middle of every step, and the last frame of every sentence of a step that points.
  const middles = tl.steps.map((st) => frameAt(st.middleS));
  const ends = tl.steps.map((st) => (st.point ? st.sentences.map((x) => frameAt(x.endS) - 1) : []));
  const refs: Buffer[] = [];
  for (const shot of c.shots) refs.push(await reference(ff, shot, tl.size));
  // Burned captions sit in the bottom band of the picture.
  const captionBand: Rect[] = c.burnedCaptions ? [{ x0: 0, y0: Math.floor(height * 0.78), x1: width, y1: height }] : [];
  results.push(
    ...(await guard(['frames', 'pointer'], async () => {
      const decoded = await frames(ff, c.video, [...middles, ...ends.flat()], tl.size);
      return [frameCheck(tl, decoded, refs, middles, captionBand), pointerCheck(tl, decoded, refs, ends)];
    })),
  );
  return results;
}
