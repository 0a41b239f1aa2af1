import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeVideo } from '../../src/videos/assemble.ts';
import { Ffmpeg } from '../../src/videos/ffmpeg.ts';
import { POINTER_FILL, POINTER_TILE, pointerPng, SUBPIXEL } from '../../src/videos/pointer.ts';
import { buildTimeline, pointerAt } from '../../src/videos/timeline.ts';
import { findFfmpeg } from '../../src/videos/tools.ts';
import { tempDir } from '../helpers/nats.ts';

/**
 * The pointer glides in sub-pixel steps: a slow 6-pixel glide, rendered by the real encode and
 * decoded again, moves its drawn centre by fractions of a pixel from frame to frame. The same glide
 * through a plain overlay (whole pixels) does not — which is what the test tells apart.
 */
const test = suite('videos: the pointer');
const ff = new Ffmpeg(findFfmpeg());
const CROP = { x: 1150, y: 630, w: 100, h: 100 };

/** The centre of what is drawn (darkness-weighted, on white) in each raw RGB frame of `w`×`h`. */
function centres(raw: Buffer, w: number, h: number): number[] {
  const size = w * h * 3;
  const out: number[] = [];
  for (let f = 0; f + size <= raw.length; f += size) {
    let sx = 0;
    let s = 0;
    for (let i = 0; i < w * h; i++) {
      const o = f + i * 3;
      const d = 765 - raw[o]! - raw[o + 1]! - raw[o + 2]!;
      if (d <= 24) continue;
      sx += (i % w) * d;
      s += d;
    }
    out.push(sx / s);
  }
  return out;
}

function glideStats(xs: number[]): { distinct: number; maxStep: number; monotonic: boolean; moved: number } {
  const steps = xs.slice(1).map((x, i) => x - xs[i]!);
  return {
    distinct: new Set(xs.map((x) => x.toFixed(2))).size,
    maxStep: Math.max(...steps.map(Math.abs)),
    monotonic: steps.every((d) => d > -0.05),
    moved: xs.at(-1)! - xs[0]!,
  };
}

test('the sprite is an RGBA PNG of SUBPIXEL × the tile, with the fill colour the checks look for', async () => {
  const dir = await tempDir('stk-pointer-');
  try {
    await writeFile(join(dir.path, 'p.png'), pointerPng());
    const p = await ff.probe(join(dir.path, 'p.png'));
    assert.equal([p.streams[0]!.width, p.streams[0]!.height, p.streams[0]!.pix_fmt], [POINTER_TILE.width * SUBPIXEL, POINTER_TILE.height * SUBPIXEL, 'rgba']);
    const { stdout } = await ff.run(['-v', 'error', '-i', join(dir.path, 'p.png'), '-f', 'rawvideo', '-pix_fmt', 'rgba', 'pipe:1']);
    let fill = 0;
    for (let o = 0; o < stdout.length; o += 4) if (stdout[o] === POINTER_FILL[0] && stdout[o + 1] === POINTER_FILL[1] && stdout[o + 3] === 255) fill++;
    assert.ok(fill > 1000, `${fill} fill pixels`);
  } finally {
    await dir.cleanup();
  }
});

test('a slow glide through the real encode moves in fractions of a pixel, eased, and lands on its target', async () => {
  const dir = await tempDir('stk-pointer-');
  try {
    // One step; the pointer glides 6 px right and 3 px down during the first second (25 frames).
    const box = { x: 1186.4, y: 662.6, width: 20, height: 20 };
    const tl = buildTimeline([{ sentences: [{ text: 'Here.', samples: 96_000 }], point: box }], { width: 1920, height: 1080 });
    const glide = tl.glides[0]!;
    assert.equal([glide.to.x - glide.from.x, glide.to.y - glide.from.y], [6, 3]);
    const shot = join(dir.path, 'white.png');
    const narration = join(dir.path, 'silence.wav');
    await ff.run(['-v', 'error', '-f', 'lavfi', '-i', 'color=c=white:s=1920x1080', '-frames:v', '1', shot]);
    await ff.run(['-v', 'error', '-f', 'lavfi', '-i', `anullsrc=r=48000:cl=mono`, '-t', tl.totalS.toFixed(6), '-c:a', 'pcm_s16le', narration]);
    const video = join(dir.path, 'glide.mp4');
    await encodeVideo(ff, tl, [shot], narration, video, dir.path);
    const { stdout } = await ff.run([
      '-v',
      'error',
      '-i',
      video,
      '-vf',
      `crop=${CROP.w}:${CROP.h}:${CROP.x}:${CROP.y}`,
      '-frames:v',
      '27',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      'pipe:1',
    ]);
    const xs = centres(stdout, CROP.w, CROP.h);
    assert.is(xs.length, 27);
    const s = glideStats(xs);
    assert.ok(s.monotonic, `never moves back: ${xs.map((x) => x.toFixed(2)).join(' ')}`);
    // Quarter-pixel placement: the fastest frame of this glide moves about 0.45 px, drawn as 0.25 or 0.5 px.
    assert.ok(s.maxStep < 0.75, `largest step ${s.maxStep.toFixed(2)} px: ${xs.map((x) => x.toFixed(2)).join(' ')}`);
    assert.ok(s.distinct >= 16, `${s.distinct} distinct positions over a 6 px glide`);
    assert.ok(Math.abs(s.moved - 6) < 0.3, `moved ${s.moved.toFixed(2)} px`);
    // Eased: the first and last steps are the smallest.
    assert.ok(xs[1]! - xs[0]! < 0.1 && xs[26]! - xs[25]! < 0.1);
    assert.equal(pointerAt(tl, glide.endS), { x: 1196.4, y: 672.6 });
  } finally {
    await dir.cleanup();
  }
});

test('the same glide through a plain overlay jumps whole pixels: what the test above would catch', async () => {
  const dir = await tempDir('stk-pointer-');
  try {
    const sprite = join(dir.path, 'p.png');
    await writeFile(sprite, pointerPng());
    const x = '40+6*clip(t,0,1)*clip(t,0,1)*clip(t,0,1)*(clip(t,0,1)*(clip(t,0,1)*6-15)+10)';
    const { stdout } = await ff.run([
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'color=c=white:s=100x100:r=25:d=1.1',
      '-loop',
      '1',
      '-framerate',
      '25',
      '-t',
      '1.1',
      '-i',
      sprite,
      '-filter_complex',
      `[1:v]scale=${POINTER_TILE.width}:${POINTER_TILE.height}:flags=area[p];[0:v]format=yuv420p[bg];[bg][p]overlay=x='${x}':y=20:eval=frame`,
      '-frames:v',
      '27',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      'pipe:1',
    ]);
    const s = glideStats(centres(stdout, 100, 100));
    assert.ok(s.maxStep >= 0.9, `largest step ${s.maxStep.toFixed(2)} px`);
    assert.ok(s.distinct <= 7, `${s.distinct} distinct positions`);
  } finally {
    await dir.cleanup();
  }
});

test.run();
