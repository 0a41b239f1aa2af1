// Where everything of a video happens in time, computed before any of it is rendered: the audio
// samples of each sentence, the frames of each step and cross-fade, the pointer's path, the cues.
// Pure: the assembly renders it, the checks measure the video against it.

/** A rectangle in video pixels. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

/** The rhythm of a video. Every step starts and ends on a frame, so audio and pictures never drift. */
export interface Timing {
  fps: number;
  sampleRate: number;
  /** Cross-fade between two steps, in frames; silent, and the pointer glides meanwhile. */
  transitionFrames: number;
  /** Pause at the start of a step before its first sentence (the pointer arrives at its end). */
  leadS: number;
  /** The same for the first step, which has no cross-fade before it to glide in. */
  firstLeadS: number;
  /** Pause between two sentences of a step. */
  gapS: number;
  /** Pause after a step's last sentence. */
  tailS: number;
}

/** 25 frames per second (48 kHz audio is 1,920 samples a frame), 0.6 s cross-fades. */
export const DEFAULT_TIMING: Timing = { fps: 25, sampleRate: 48_000, transitionFrames: 15, leadS: 0.5, firstLeadS: 1.0, gapS: 0.4, tailS: 0.7 };

/** What the timeline is computed from: each step's sentences (their lengths) and what it points at. */
export interface StepInput {
  sentences: Array<{ text: string; samples: number }>;
  point?: Box;
}

export interface TimedSentence {
  text: string;
  startSample: number;
  samples: number;
  startS: number;
  endS: number;
}

export interface TimedStep {
  /** Where the step is fully on screen: from its start to its end (its pauses included). */
  startS: number;
  endS: number;
  startSample: number;
  samples: number;
  /** Halfway through the step: far from both cross-fades. */
  middleS: number;
  /** Length of the step's picture as an input of the assembly: its own time plus the fades on each side. */
  segmentS: number;
  /** Where the cross-fade into this step begins in the video (null for the first step). */
  fadeInAtS: number | null;
  sentences: TimedSentence[];
  point?: Box;
  /** Where the pointer rests during this step. */
  rest: Point;
}

/** One eased move of the pointer. */
export interface Glide {
  startS: number;
  endS: number;
  from: Point;
  to: Point;
}

export interface Timeline {
  timing: Timing;
  size: { width: number; height: number };
  transitionS: number;
  totalSamples: number;
  totalS: number;
  /** Sum of the sentences' audio alone. */
  speechS: number;
  steps: TimedStep[];
  start: Point;
  glides: Glide[];
}

const round3 = (v: number): number => Math.round(v * 1000) / 1000;

/** The centre of a box, where the pointer's tip goes. */
export function centre(b: Box): Point {
  return { x: round3(b.x + b.width / 2), y: round3(b.y + b.height / 2) };
}

/** Lays out steps in time. Sentence lengths are in samples of `timing.sampleRate`. */
export function buildTimeline(steps: StepInput[], size: { width: number; height: number }, timing: Timing = DEFAULT_TIMING): Timeline {
  const perFrame = timing.sampleRate / timing.fps;
  if (!Number.isInteger(perFrame)) throw new Error(`sample rate ${timing.sampleRate} is not a whole number of samples per frame at ${timing.fps} fps`);
  if (steps.length === 0) throw new Error('a video needs at least one step');
  const samples = (s: number): number => Math.round(s * timing.sampleRate);
  const T = timing.transitionFrames * perFrame;
  const start: Point = { x: round3(size.width * 0.62), y: round3(size.height * 0.62) };
  const out: TimedStep[] = [];
  const glides: Glide[] = [];
  let at = 0;
  let rest = start;
  let speech = 0;
  steps.forEach((s, i) => {
    const lead = samples(i === 0 ? timing.firstLeadS : timing.leadS);
    let cursor = at + lead;
    const sentences = s.sentences.map((sentence, k) => {
      if (k > 0) cursor += samples(timing.gapS);
      const t: TimedSentence = {
        text: sentence.text,
        startSample: cursor,
        samples: sentence.samples,
        startS: cursor / timing.sampleRate,
        endS: (cursor + sentence.samples) / timing.sampleRate,
      };
      cursor += sentence.samples;
      speech += sentence.samples;
      return t;
    });
    const length = Math.ceil((cursor + samples(timing.tailS) - at) / perFrame) * perFrame;
    if (s.point) {
      const to = centre(s.point);
      if (to.x !== rest.x || to.y !== rest.y) {
        glides.push({ startS: i === 0 ? 0 : (at - T) / timing.sampleRate, endS: (at + lead) / timing.sampleRate, from: rest, to });
      }
      rest = to;
    }
    const first = i === 0;
    const last = i === steps.length - 1;
    out.push({
      startS: at / timing.sampleRate,
      endS: (at + length) / timing.sampleRate,
      startSample: at,
      samples: length,
      middleS: (at + length / 2) / timing.sampleRate,
      segmentS: (length + (first ? 0 : T) + (last ? 0 : T)) / timing.sampleRate,
      fadeInAtS: first ? null : (at - T) / timing.sampleRate,
      sentences,
      ...(s.point ? { point: s.point } : {}),
      rest,
    });
    at += length + (last ? 0 : T);
  });
  return {
    timing,
    size,
    transitionS: T / timing.sampleRate,
    totalSamples: at,
    totalS: at / timing.sampleRate,
    speechS: speech / timing.sampleRate,
    steps: out,
    start,
    glides,
  };
}

/** Smootherstep: zero speed and zero acceleration at both ends, so the pointer eases in and out. */
export function ease(u: number): number {
  const c = Math.min(1, Math.max(0, u));
  return c * c * c * (c * (c * 6 - 15) + 10);
}

/** Where the pointer's tip is at `t` seconds (the same formula as pointerExpr). */
export function pointerAt(tl: Timeline, t: number): Point {
  let x = tl.start.x;
  let y = tl.start.y;
  for (const g of tl.glides) {
    const e = ease((t - g.startS) / (g.endS - g.startS));
    x += (g.to.x - g.from.x) * e;
    y += (g.to.y - g.from.y) * e;
  }
  return { x, y };
}

const num = (v: number): string => String(Math.round(v * 1e6) / 1e6);

/**
 * The pointer's `axis` coordinate as an ffmpeg expression of `t`. Glides follow one another, so the
 * position is the start plus each glide's eased share of its move: a flat sum, no nested if().
 */
export function pointerExpr(tl: Timeline, axis: 'x' | 'y'): string {
  const terms = [num(tl.start[axis])];
  for (const g of tl.glides) {
    const d = g.to[axis] - g.from[axis];
    if (d === 0) continue;
    const u = `clip((t-${num(g.startS)})/${num(g.endS - g.startS)},0,1)`;
    terms.push(`${num(d)}*${u}*${u}*${u}*(${u}*(${u}*6-15)+10)`);
  }
  return terms.join('+').replaceAll('+-', '-');
}

function stamp(s: number): string {
  const ms = Math.round(s * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const sec = Math.floor((ms % 60_000) / 1000);
  const pad = (v: number, n = 2): string => String(v).padStart(n, '0');
  return `${pad(h)}:${pad(m)}:${pad(sec)}.${pad(ms % 1000, 3)}`;
}

/** The subtitles: one WebVTT cue per sentence, from its first sample to its last. */
export function webVtt(tl: Timeline): string {
  const cues = tl.steps.flatMap((s) => s.sentences);
  return `WEBVTT\n\n${cues.map((c, i) => `${i + 1}\n${stamp(c.startS)} --> ${stamp(c.endS)}\n${c.text.replace(/-->/g, '->')}\n`).join('\n')}`;
}

/** The cues of a WebVTT file: start and end in seconds, and the text. */
export function parseVtt(text: string): Array<{ startS: number; endS: number; text: string }> {
  const time = (v: string): number => {
    const parts = v.split(':').map(Number);
    return parts.reduce((acc, p) => acc * 60 + p, 0);
  };
  const cues: Array<{ startS: number; endS: number; text: string }> = [];
  for (const block of text.replace(/\r/g, '').split(/\n{2,}/)) {
    const lines = block.split('\n');
    const i = lines.findIndex((l) => l.includes('-->'));
    if (i < 0) continue;
    const m = /^\s*((?:\d+:)?\d{2}:\d{2}\.\d{3})\s+-->\s+((?:\d+:)?\d{2}:\d{2}\.\d{3})/.exec(lines[i]!);
    if (!m) continue;
    cues.push({
      startS: time(m[1]!),
      endS: time(m[2]!),
      text: lines
        .slice(i + 1)
        .join('\n')
        .trimEnd(),
    });
  }
  return cues;
}
