// The mouse pointer drawn into the videos: an arrow in a colour no dashboard page uses, so the checks
// can find it in a decoded frame. It is drawn here, by code, at SUBPIXEL times its size; the
// assembly lets ffmpeg shift that large sprite by whole pixels and shrink it back (see assemble.ts),
// which is what moves the pointer in steps of 1/SUBPIXEL of a video pixel.
import { crc32, deflateSync } from 'node:zlib';

/** The arrow's outline in video pixels, tip at (0, 0). */
const ARROW: ReadonlyArray<readonly [number, number]> = [
  [0, 0],
  [0, 26],
  [6.2, 20.2],
  [10.4, 29.6],
  [14.6, 27.8],
  [10.5, 18.6],
  [18.8, 18.6],
];

/** Fill colour of the pointer (sRGB). A saturated magenta: the checks find the pointer by it. */
export const POINTER_FILL = [236, 0, 200] as const;
const OUTLINE = [27, 31, 36] as const;
const HALO = [255, 255, 255] as const;
const OUTLINE_PX = 1.5;
const HALO_PX = 2.6;

/** How finely the pointer is placed: 4 means in steps of a quarter of a video pixel. */
export const SUBPIXEL = 4;

/** Size of the pointer tile in video pixels, and where the tip sits in it. */
export const POINTER_TILE = { width: 24, height: 36, tipX: 2, tipY: 2 } as const;

function distToSegment(px: number, py: number, a: readonly [number, number], b: readonly [number, number]): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const t = Math.max(0, Math.min(1, ((px - a[0]) * dx + (py - a[1]) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (a[0] + t * dx), py - (a[1] + t * dy));
}

function inside(px: number, py: number): boolean {
  let inside = false;
  for (let i = 0, j = ARROW.length - 1; i < ARROW.length; j = i++) {
    const [xi, yi] = ARROW[i]!;
    const [xj, yj] = ARROW[j]!;
    if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** The colour of one point of the arrow (in video pixels from the tip), or null outside it. */
function sample(px: number, py: number): readonly [number, number, number] | null {
  if (inside(px, py)) return POINTER_FILL;
  let d = Number.POSITIVE_INFINITY;
  for (let i = 0; i < ARROW.length; i++) d = Math.min(d, distToSegment(px, py, ARROW[i]!, ARROW[(i + 1) % ARROW.length]!));
  if (d <= OUTLINE_PX) return OUTLINE;
  if (d <= HALO_PX) return HALO;
  return null;
}

/**
 * The pointer sprite: RGBA at SUBPIXEL × the tile's size, each pixel anti-aliased from 4×4 samples.
 * Colour is averaged over the covered samples only, so edges never darken towards transparent black.
 */
export function pointerSprite(): { width: number; height: number; rgba: Buffer } {
  const width = POINTER_TILE.width * SUBPIXEL;
  const height = POINTER_TILE.height * SUBPIXEL;
  const rgba = Buffer.alloc(width * height * 4);
  const grid = 4;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let covered = 0;
      for (let sy = 0; sy < grid; sy++) {
        for (let sx = 0; sx < grid; sx++) {
          const px = (x + (sx + 0.5) / grid) / SUBPIXEL - POINTER_TILE.tipX;
          const py = (y + (sy + 0.5) / grid) / SUBPIXEL - POINTER_TILE.tipY;
          const c = sample(px, py);
          if (!c) continue;
          r += c[0];
          g += c[1];
          b += c[2];
          covered++;
        }
      }
      if (!covered) continue;
      const o = (y * width + x) * 4;
      rgba[o] = Math.round(r / covered);
      rgba[o + 1] = Math.round(g / covered);
      rgba[o + 2] = Math.round(b / covered);
      rgba[o + 3] = Math.round((255 * covered) / (grid * grid));
    }
  }
  return { width, height, rgba };
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** Encodes 8-bit RGBA pixels as a PNG file (no filtering: the sprite is tiny). */
export function encodePng(width: number, height: number, rgba: Buffer): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type: RGBA
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) rgba.copy(raw, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The pointer sprite as a PNG file's bytes. */
export function pointerPng(): Buffer {
  const s = pointerSprite();
  return encodePng(s.width, s.height, s.rgba);
}

/** True when an RGB pixel of a decoded frame has the pointer's fill colour (after YUV 4:2:0 and compression). */
export function isPointerColour(r: number, g: number, b: number): boolean {
  return r > 170 && g < 90 && b > 130 && r - g > 120 && b - g > 90;
}
