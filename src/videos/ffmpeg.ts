// ffmpeg and ffprobe as the pipeline calls them: never reading stdin, one error for every failure.
import { run, type RunResult } from './tools.ts';

/** What ffprobe says about one stream. */
export interface ProbeStream {
  index: number;
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  sample_rate?: string;
  channels?: number;
  duration?: string;
  duration_ts?: number;
  avg_frame_rate?: string;
}

/** What ffprobe says about one file. */
export interface Probe {
  streams: ProbeStream[];
  format: { duration?: string; format_name: string; size?: string };
}

/** The two ffmpeg programs, by path. */
export class Ffmpeg {
  constructor(readonly bins: { ffmpeg: string; ffprobe: string }) {}

  /** Runs ffmpeg with `-nostdin` (it must never wait on the terminal) and overwrite on. */
  run(args: string[], o: { cwd?: string; onStdoutLine?: (line: string) => void } = {}): Promise<RunResult> {
    return run('ffmpeg', this.bins.ffmpeg, ['-nostdin', '-hide_banner', '-nostats', '-y', ...args], o);
  }

  /** Streams and container of a media file. */
  async probe(file: string): Promise<Probe> {
    const { stdout } = await run('ffprobe', this.bins.ffprobe, ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', file]);
    return JSON.parse(stdout.toString('utf8')) as Probe;
  }

  /** An audio file's length in samples and seconds, from its one audio stream. */
  async audioLength(file: string): Promise<{ samples: number; seconds: number; sampleRate: number }> {
    const p = await this.probe(file);
    const a = p.streams.find((s) => s.codec_type === 'audio');
    if (!a?.sample_rate || a.duration_ts === undefined) throw new Error(`no audio stream with a length in ${file}`);
    const sampleRate = Number(a.sample_rate);
    return { samples: a.duration_ts, seconds: a.duration_ts / sampleRate, sampleRate };
  }

  /** Decodes one frame at `atS` seconds to raw RGB (24 bits, the video's own size). */
  async frameRgb(file: string, atS: number, size: { width: number; height: number }): Promise<Buffer> {
    const { stdout } = await this.run([
      '-v',
      'error',
      '-ss',
      atS.toFixed(4),
      '-i',
      file,
      '-frames:v',
      '1',
      '-vf',
      `scale=${size.width}:${size.height}:flags=bicubic`,
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      'pipe:1',
    ]);
    if (stdout.length !== size.width * size.height * 3) throw new Error(`no frame at ${atS}s in ${file}`);
    return stdout;
  }
}
