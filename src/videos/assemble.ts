// Assembly with ffmpeg: narration track, two-pass loudness normalisation, then one encode that
// lays the steps' pictures end to end with cross-fades, draws the pointer and (optionally) burns in
// the captions.
//
// The pointer, sub-pixel smooth. ffmpeg's overlay filter evaluates x/y expressions per frame, but
// it places the overlaid picture on whole pixels (on even pixels when the main picture is YUV 4:2:0),
// so an eased glide would advance in visible 1- or 2-pixel steps, and zoompan-style tricks shake
// the whole picture. Here the position X(t) is split in two:
//   - the fraction: a transparent tile SUBPIXEL times the pointer's size gets the large sprite
//     (pointer.ts) overlaid at floor(SUBPIXEL·frac(X)), a whole pixel of that large tile; the tile
//     is then shrunk SUBPIXEL times with an area (box) filter, which turns that shift into a shift
//     of 1/SUBPIXEL video pixel with correctly anti-aliased edges;
//   - the whole part: the shrunk tile is overlaid on the video at floor(X), in packed RGB (no
//     chroma rounding), with premultiplied alpha (the tile's colours are premultiplied by then:
//     it was transparent black under the sprite).
// Both overlays evaluate the same expression of `t`, and both see the same frame timestamps (time
// base 1/fps), so their floor() never disagree. (`n` would not do: overlay counts it from 1.)
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StkError } from '../errors.ts';
import type { Ffmpeg } from './ffmpeg.ts';
import { POINTER_TILE, pointerPng, SUBPIXEL } from './pointer.ts';
import { pointerExpr, type Timeline, webVtt } from './timeline.ts';

/** Integrated loudness target and the true-peak ceiling of every video. */
export const LOUDNESS = { integratedLufs: -16, truePeakDbtp: -1.5 } as const;
// loudnorm is asked for a lower ceiling than promised: AAC encoding raises true peaks (by up to a
// decibel at low bit rates), and afterwards fitTruePeak makes sure of what the encoded audio has.
const LOUDNORM_TP = -3;
const AAC = ['-c:a', 'aac', '-b:a', '64k', '-ac', '1'];
/** Where fitTruePeak aims: under the promised ceiling with a margin for measuring it again. */
const ENCODED_PEAK_CEILING = LOUDNESS.truePeakDbtp - 0.3;
const LOUDNORM_LRA = 20;

/** The narration as one WAV: every sentence at its sample, silence between, exactly the video's length. */
export async function narrationTrack(ff: Ffmpeg, tl: Timeline, sentenceFiles: string[][], out: string): Promise<void> {
  const inputs: string[] = [];
  const pieces: string[] = [];
  const graph: string[] = [];
  let cursor = 0;
  let silence = 0;
  const gap = (samples: number): void => {
    if (samples <= 0) return;
    const label = `z${silence++}`;
    graph.push(`anullsrc=r=${tl.timing.sampleRate}:cl=mono,atrim=end_sample=${samples}[${label}]`);
    pieces.push(`[${label}]`);
  };
  tl.steps.forEach((step, i) => {
    step.sentences.forEach((s, k) => {
      gap(s.startSample - cursor);
      inputs.push('-i', sentenceFiles[i]![k]!);
      pieces.push(`[${inputs.length / 2 - 1}:a]`);
      cursor = s.startSample + s.samples;
    });
  });
  gap(tl.totalSamples - cursor);
  graph.push(`${pieces.join('')}concat=n=${pieces.length}:v=0:a=1,aformat=sample_fmts=s16:sample_rates=${tl.timing.sampleRate}:channel_layouts=mono[out]`);
  const script = `${out}.graph`;
  await writeFile(script, graph.join(';\n'));
  await ff.run(['-v', 'error', ...inputs, '-filter_complex_script', script, '-map', '[out]', '-c:a', 'pcm_s16le', out]);
}

interface LoudnormMeasure {
  input_i: string;
  input_tp: string;
  input_lra: string;
  input_thresh: string;
  target_offset: string;
  normalization_type?: string;
}

function loudnormJson(stderr: string): LoudnormMeasure {
  const start = stderr.lastIndexOf('{');
  const end = stderr.lastIndexOf('}');
  if (start < 0 || end < start) throw new StkError('STK_ERR_VIDEO_RENDER_FAILED', 'loudnorm printed no measurement', { tool: 'ffmpeg', exitCode: 0 });
  return JSON.parse(stderr.slice(start, end + 1)) as LoudnormMeasure;
}

/**
 * Two-pass loudnorm: the first pass measures the narration, the second applies those measurements
 * (linear gain when the ceiling allows it) to −16 LUFS. The result keeps the input's exact length.
 */
export async function normaliseLoudness(
  ff: Ffmpeg,
  input: string,
  out: string,
  totalSamples: number,
  sampleRate: number,
): Promise<{ mode: string; inputLufs: number }> {
  const target = `I=${LOUDNESS.integratedLufs}:TP=${LOUDNORM_TP}:LRA=${LOUDNORM_LRA}`;
  const first = await ff.run(['-v', 'info', '-i', input, '-af', `loudnorm=${target}:print_format=json`, '-f', 'null', '-']);
  const m = loudnormJson(first.stderr);
  const measured = `measured_I=${m.input_i}:measured_TP=${m.input_tp}:measured_LRA=${m.input_lra}:measured_thresh=${m.input_thresh}:offset=${m.target_offset}`;
  // loudnorm works at 192 kHz; back to the track's rate, then pad/cut to the exact sample count.
  const second = await ff.run([
    '-v',
    'info',
    '-i',
    input,
    '-af',
    `loudnorm=${target}:${measured}:linear=true:print_format=json,aresample=${sampleRate},apad=whole_len=${totalSamples},atrim=end_sample=${totalSamples}`,
    '-ac',
    '1',
    '-c:a',
    'pcm_s16le',
    out,
  ]);
  return { mode: loudnormJson(second.stderr).normalization_type ?? 'unknown', inputLufs: Number(m.input_i) };
}

// libass sizes are relative to a 288-line script: 10 is about 38 px at 1080p. A dark box keeps the
// captions readable over any page.
const CAPTION_STYLE = 'FontName=DejaVu Sans,FontSize=10,BorderStyle=3,Outline=3,Shadow=0,OutlineColour=&H60101418,BackColour=&H60101418,MarginV=14';

/** Integrated loudness and true peak of a file's first audio stream, as `ebur128` measures them. */
export async function measureLoudness(ff: Ffmpeg, file: string): Promise<{ integratedLufs: number; truePeakDbtp: number }> {
  const { stderr } = await ff.run(['-v', 'info', '-i', file, '-map', '0:a:0', '-af', 'ebur128=peak=true', '-f', 'null', '-']);
  const summary = stderr.slice(stderr.lastIndexOf('Summary:'));
  return {
    integratedLufs: Number(/I:\s+(-?[\d.]+|-inf)\s+LUFS/.exec(summary)?.[1]),
    truePeakDbtp: Number(/True peak:\s+Peak:\s+(-?[\d.]+|-inf)\s+dBFS/.exec(summary)?.[1]),
  };
}

/**
 * Encodes the normalised narration to AAC the way the video will, measures the true peak of what
 * comes out, and lowers the gain of `wav` (in place) until it is under the ceiling. The AAC encoder
 * is deterministic, so the video's audio has the peak measured here. Returns the gain applied.
 */
export async function fitTruePeak(ff: Ffmpeg, wav: string): Promise<{ gainDb: number; truePeakDbtp: number }> {
  let gainDb = 0;
  for (let attempt = 0; ; attempt++) {
    const trial = `${wav}.trial.m4a`;
    await ff.run(['-v', 'error', '-i', wav, ...AAC, trial]);
    const { truePeakDbtp } = await measureLoudness(ff, trial);
    if (truePeakDbtp <= ENCODED_PEAK_CEILING) return { gainDb, truePeakDbtp };
    if (attempt === 3)
      throw new StkError('STK_ERR_VIDEO_RENDER_FAILED', `the encoded narration keeps a true peak of ${truePeakDbtp} dBTP`, { tool: 'ffmpeg', exitCode: 0 });
    const step = ENCODED_PEAK_CEILING - truePeakDbtp - 0.1;
    gainDb += step;
    const lowered = `${wav}.lowered.wav`;
    await ff.run(['-v', 'error', '-i', wav, '-af', `volume=${step.toFixed(2)}dB`, '-c:a', 'pcm_s16le', lowered]);
    await rename(lowered, wav);
  }
}

/** Options of the encode. */
export interface EncodeOptions {
  /** Burn the captions into the picture (the .vtt file is written either way). */
  burnCaptions?: boolean;
  /** x264 constant rate factor: lower is better and larger. */
  crf?: number;
  preset?: string;
  onProgress?: (fraction: number) => void;
}

/**
 * Renders the video: one picture per step (`shots`, each the video's size), the normalised
 * narration, the pointer and optionally the captions, into an MP4 (H.264 yuv420p + AAC, faststart).
 * Works inside `dir`, which must hold nothing else of value (it writes its scripts there).
 */
export async function encodeVideo(
  ff: Ffmpeg,
  tl: Timeline,
  shots: string[],
  narration: string,
  out: string,
  dir: string,
  o: EncodeOptions = {},
): Promise<void> {
  const { fps } = tl.timing;
  const { width, height } = tl.size;
  const total = tl.totalS.toFixed(6);
  const tb = `settb=expr=1/${fps}`;
  const inputs: string[] = [];
  const graph: string[] = [];
  tl.steps.forEach((s, i) => {
    // A still, looped for exactly its segment: bounded by -t, so no input can run forever.
    inputs.push('-loop', '1', '-framerate', String(fps), '-t', s.segmentS.toFixed(6), '-i', shots[i]!);
    graph.push(`[${i}:v]scale=${width}:${height}:flags=lanczos,setsar=1,format=gbrp,${tb}[s${i}]`);
  });
  let last = 's0';
  tl.steps.forEach((s, i) => {
    if (s.fadeInAtS === null) return;
    graph.push(`[${last}][s${i}]xfade=transition=fade:duration=${tl.transitionS.toFixed(6)}:offset=${s.fadeInAtS.toFixed(6)}[x${i}]`);
    last = `x${i}`;
  });
  const sprite = join(dir, 'pointer.png');
  await writeFile(sprite, pointerPng());
  const spriteIndex = tl.steps.length;
  inputs.push('-loop', '1', '-framerate', String(fps), '-t', total, '-i', sprite);
  inputs.push('-i', narration);
  const X = pointerExpr(tl, 'x');
  const Y = pointerExpr(tl, 'y');
  const tileW = (POINTER_TILE.width + 1) * SUBPIXEL;
  const tileH = (POINTER_TILE.height + 1) * SUBPIXEL;
  graph.push(
    `color=c=black@0:s=${tileW}x${tileH}:r=${fps}:d=${total},format=rgba,${tb}[tile]`,
    `[${spriteIndex}:v]format=rgba,${tb}[sprite]`,
    `[tile][sprite]overlay=x='floor(${SUBPIXEL}*((${X})-floor(${X})))':y='floor(${SUBPIXEL}*((${Y})-floor(${Y})))':eval=frame:format=rgb,` +
      `scale=${tileW / SUBPIXEL}:${tileH / SUBPIXEL}:flags=area[pointer]`,
    `[${last}]format=rgb24,${tb}[base]`,
    `[base][pointer]overlay=x='floor(${X})-${POINTER_TILE.tipX}':y='floor(${Y})-${POINTER_TILE.tipY}':eval=frame:format=auto:alpha=premultiplied,format=yuv420p${
      o.burnCaptions ? `,subtitles=filename=cues.vtt:force_style='${CAPTION_STYLE}'` : ''
    }[video]`,
  );
  if (o.burnCaptions) await writeFile(join(dir, 'cues.vtt'), webVtt(tl));
  const script = join(dir, 'video.graph');
  await writeFile(script, graph.join(';\n'));
  const totalUs = tl.totalS * 1e6;
  await ff.run(
    [
      '-v',
      'error',
      '-progress',
      'pipe:1',
      ...inputs,
      '-filter_complex_script',
      script,
      '-map',
      '[video]',
      '-map',
      `${spriteIndex + 1}:a`,
      '-c:v',
      'libx264',
      '-preset',
      o.preset ?? 'veryfast',
      '-tune',
      'stillimage',
      '-crf',
      String(o.crf ?? 20),
      '-pix_fmt',
      'yuv420p',
      '-r',
      String(fps),
      ...AAC,
      '-t',
      total,
      '-movflags',
      '+faststart',
      out,
    ],
    {
      cwd: dir,
      onStdoutLine: (line) => {
        const m = /^out_time_us=(\d+)/.exec(line);
        if (m && o.onProgress) o.onProgress(Math.min(1, Number(m[1]) / totalUs));
      },
    },
  );
}

/** A poster picture: the frame in the middle of the first step, 1280 wide. */
export async function poster(ff: Ffmpeg, video: string, atS: number, out: string): Promise<void> {
  await ff.run(['-v', 'error', '-ss', atS.toFixed(3), '-i', video, '-frames:v', '1', '-vf', 'scale=1280:-2:flags=lanczos', '-update', '1', out]);
}
