// The programs the pipeline runs, found once up front so a missing one is named before any work.
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { StkError } from '../errors.ts';

/** Where each tool comes from on Debian, for the error that says what to install. */
export const PACKAGES = {
  ffmpeg: 'ffmpeg',
  ffprobe: 'ffmpeg',
  chromium: 'chromium',
  festival: 'festival festvox-us-slt-hts',
  flite: 'flite',
  'espeak-ng': 'espeak-ng',
} as const;

/** The first executable called `name` on `PATH` (or `name` itself when it is a path), or null. */
export function which(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates = name.includes('/')
    ? [name]
    : (env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, name));
  for (const c of candidates) {
    try {
      if (!statSync(c).isFile()) continue;
      accessSync(c, constants.X_OK);
      return c;
    } catch {}
  }
  return null;
}

function missing(tool: keyof typeof PACKAGES, extra = ''): StkError {
  const pkg = PACKAGES[tool];
  return new StkError('STK_ERR_VIDEO_TOOL_MISSING', `${tool} is not installed${extra} (Debian: apt-get install ${pkg})`, { tool, package: pkg });
}

/** The ffmpeg pair; STOCKADE_FFMPEG / STOCKADE_FFPROBE override the PATH lookup. */
export function findFfmpeg(env: NodeJS.ProcessEnv = process.env): { ffmpeg: string; ffprobe: string } {
  const ffmpeg = which(env.STOCKADE_FFMPEG ?? 'ffmpeg', env);
  if (!ffmpeg) throw missing('ffmpeg');
  const ffprobe = which(env.STOCKADE_FFPROBE ?? 'ffprobe', env);
  if (!ffprobe) throw missing('ffprobe');
  return { ffmpeg, ffprobe };
}

/** The distribution's chromium (STOCKADE_CHROMIUM overrides), the browser playwright-core drives. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  const path = env.STOCKADE_CHROMIUM ?? '/usr/bin/chromium';
  const found = which(path, env) ?? (env.STOCKADE_CHROMIUM ? null : which('chromium', env));
  if (!found) throw missing('chromium', ` at ${path}`);
  return found;
}

/** What a child process printed, and how it ended. */
export interface RunResult {
  stdout: Buffer;
  stderr: string;
}

/**
 * Runs a program to its end and returns its output; a non-zero exit throws
 * STK_ERR_VIDEO_RENDER_FAILED with the tail of its error output. `onStdoutLine` sees stdout as it comes.
 */
export function run(
  tool: string,
  bin: string,
  args: string[],
  o: { cwd?: string; input?: string; onStdoutLine?: (line: string) => void; maxStderrBytes?: number } = {},
): Promise<RunResult> {
  const maxStderr = o.maxStderrBytes ?? 4_000_000;
  return new Promise((resolve, reject) => {
    // A child of ours is never left behind: it is in our process group and is waited for here.
    const child = spawn(bin, args, { cwd: o.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    let partial = '';
    child.stdout.on('data', (b: Buffer) => {
      out.push(b);
      if (!o.onStdoutLine) return;
      partial += b.toString('utf8');
      for (let nl = partial.indexOf('\n'); nl >= 0; nl = partial.indexOf('\n')) {
        o.onStdoutLine(partial.slice(0, nl));
        partial = partial.slice(nl + 1);
      }
    });
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString('utf8');
      if (err.length > maxStderr) err = err.slice(-maxStderr / 2);
    });
    child.on('error', (e) =>
      reject(new StkError('STK_ERR_VIDEO_RENDER_FAILED', `${tool} could not be started: ${e.message}`, { tool, bin, exitCode: null }, { cause: e })),
    );
    child.on('close', (code, signal) => {
      if (code === 0) return resolve({ stdout: Buffer.concat(out), stderr: err });
      const tail = err.trim().split('\n').slice(-8).join('\n');
      reject(
        new StkError('STK_ERR_VIDEO_RENDER_FAILED', `${tool} failed (${signal ?? `exit ${code}`}): ${tail.split('\n').at(-1) ?? ''}`, {
          tool,
          exitCode: code,
          signal,
          stderr: tail,
        }),
      );
    });
    child.stdin.on('error', () => {});
    child.stdin.end(o.input ?? '');
  });
}
