import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildTimeline, DEFAULT_TIMING, ease, parseVtt, pointerAt, pointerExpr, webVtt } from '../../src/videos/timeline.ts';

/** The timeline: where every sentence, step, fade and glide falls, before anything is rendered. */
const test = suite('videos: timeline');
const SIZE = { width: 1920, height: 1080 };
const sr = DEFAULT_TIMING.sampleRate;
const perFrame = sr / DEFAULT_TIMING.fps;

const steps = [
  {
    sentences: [
      { text: 'One.', samples: 100_003 },
      { text: 'Two, with a pause.', samples: 150_017 },
    ],
    point: { x: 100, y: 200, width: 300, height: 40 },
  },
  { sentences: [{ text: 'Three.', samples: 90_001 }] },
  { sentences: [{ text: 'Four.', samples: 120_000 }], point: { x: 1500, y: 900, width: 20, height: 20 } },
];

test('every step starts and ends on a frame, cross-fades are silent and the total adds up', () => {
  const tl = buildTimeline(steps, SIZE);
  for (const s of tl.steps) {
    assert.is(s.startSample % perFrame, 0);
    assert.is(s.samples % perFrame, 0);
  }
  const T = DEFAULT_TIMING.transitionFrames * perFrame;
  assert.is(tl.steps[1]!.startSample, tl.steps[0]!.samples + T);
  assert.is(tl.totalSamples, tl.steps.reduce((a, s) => a + s.samples, 0) + 2 * T);
  assert.is(tl.speechS, (100_003 + 150_017 + 90_001 + 120_000) / sr);
  // Segments overlap by one fade on each inner side: xfade's offsets land where each step fades in.
  assert.is(tl.steps[0]!.segmentS, (tl.steps[0]!.samples + T) / sr);
  assert.is(tl.steps[1]!.segmentS, (tl.steps[1]!.samples + 2 * T) / sr);
  assert.is(tl.steps[2]!.fadeInAtS, (tl.steps[2]!.startSample - T) / sr);
});

test('sentences follow the lead pause and each other with the gap, inside their step', () => {
  const tl = buildTimeline(steps, SIZE);
  const [a, b] = tl.steps[0]!.sentences;
  assert.is(a!.startSample, Math.round(DEFAULT_TIMING.firstLeadS * sr));
  assert.is(b!.startSample, a!.startSample + a!.samples + Math.round(DEFAULT_TIMING.gapS * sr));
  const c = tl.steps[1]!.sentences[0]!;
  assert.is(c.startSample, tl.steps[1]!.startSample + Math.round(DEFAULT_TIMING.leadS * sr));
  for (const s of tl.steps) for (const x of s.sentences) assert.ok(x.endS < s.endS);
});

test('WebVTT: one cue per sentence, on its samples (to the millisecond), and it reads back', () => {
  const tl = buildTimeline(steps, SIZE);
  const text = webVtt(tl);
  assert.ok(text.startsWith('WEBVTT\n\n'));
  const cues = parseVtt(text);
  const sentences = tl.steps.flatMap((s) => s.sentences);
  assert.is(cues.length, 4);
  cues.forEach((c, i) => {
    assert.ok(Math.abs(c.startS - sentences[i]!.startS) <= 0.0005);
    assert.ok(Math.abs(c.endS - sentences[i]!.endS) <= 0.0005);
    assert.is(c.text, sentences[i]!.text);
  });
});

test('the pointer rests, glides with easing into each pointed step, and holds through steps that point at nothing', () => {
  const tl = buildTimeline(steps, SIZE);
  assert.is(tl.glides.length, 2);
  assert.equal(pointerAt(tl, 0), tl.start);
  const first = tl.glides[0]!;
  assert.equal(pointerAt(tl, first.endS), { x: 250, y: 220 });
  // Eased: slow at both ends, half way at the middle.
  const quarter = pointerAt(tl, first.startS + (first.endS - first.startS) / 4);
  assert.ok(Math.abs(quarter.x - tl.start.x) < Math.abs(250 - tl.start.x) * 0.25);
  assert.is(ease(0.5), 0.5);
  // Step 2 points at nothing: the pointer stays where it was.
  assert.equal(pointerAt(tl, tl.steps[1]!.middleS), { x: 250, y: 220 });
  const second = tl.glides[1]!;
  assert.is(second.startS, tl.steps[2]!.fadeInAtS);
  assert.is(second.endS, tl.steps[2]!.sentences[0]!.startS);
  assert.equal(pointerAt(tl, tl.steps[2]!.sentences[0]!.endS), { x: 1510, y: 910 });
});

test('the ffmpeg expression is the same curve as pointerAt', () => {
  const tl = buildTimeline(steps, SIZE);
  const js = pointerExpr(tl, 'x')
    .replace(/clip\(/g, 'clip(')
    .replace(/\bt\b/g, 'T');
  const clip = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
  const evaluate = new Function('T', 'clip', `return ${js};`) as (t: number, c: typeof clip) => number;
  for (let t = 0; t < tl.totalS; t += 0.04) assert.ok(Math.abs(evaluate(t, clip) - pointerAt(tl, t).x) < 1e-3, `x at ${t}`);
  assert.not.match(pointerExpr(tl, 'y'), /if\(/);
});

test.run();
