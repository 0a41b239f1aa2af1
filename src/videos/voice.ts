// The narration voice: each sentence becomes its own WAV file, so a subtitle cue can start on the
// sample where its sentence starts. Engines are tried in order of quality; the first one that is
// installed (or the one STOCKADE_VOICE names) speaks every sentence of a render.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StkError } from '../errors.ts';
import type { Ffmpeg } from './ffmpeg.ts';
import { run, which } from './tools.ts';

/** Sample rate of every narration file and of the videos' audio. */
export const SAMPLE_RATE = 48_000;

/** A text-to-speech program. */
export interface VoiceEngine {
  name: 'piper' | 'festival' | 'flite' | 'espeak-ng';
  /** Says `text` into the WAV file `out` (any rate; it is converted afterwards). */
  speak(text: string, out: string, scratch: string): Promise<void>;
}

/** Where Festival's HTS voice lives on Debian (package festvox-us-slt-hts). */
const FESTIVAL_VOICE_DIRS = ['/usr/share/festival/voices/us/cmu_us_slt_arctic_hts', '/usr/lib/festival/voices/us/cmu_us_slt_arctic_hts'];

function piper(env: NodeJS.ProcessEnv): VoiceEngine | null {
  const bin = env.STOCKADE_PIPER_BIN ? which(env.STOCKADE_PIPER_BIN, env) : null;
  const model = env.STOCKADE_PIPER_MODEL;
  if (!bin || !model || !existsSync(model)) return null;
  return { name: 'piper', speak: async (text, out) => void (await run('piper', bin, ['--model', model, '--output_file', out], { input: text })) };
}

function festival(env: NodeJS.ProcessEnv): VoiceEngine | null {
  const bin = which('text2wave', env);
  const voice = env.STOCKADE_FESTIVAL_VOICE ?? 'voice_cmu_us_slt_arctic_hts';
  // A voice named by the user is taken on trust; the default one must be installed.
  if (!bin || (!env.STOCKADE_FESTIVAL_VOICE && !FESTIVAL_VOICE_DIRS.some((d) => existsSync(d)))) return null;
  return {
    name: 'festival',
    async speak(text, out, scratch) {
      const input = join(scratch, 'festival-input.txt');
      await writeFile(input, `${text}\n`);
      await run('festival', bin, ['-eval', `(${voice})`, '-o', out, input]);
    },
  };
}

function flite(env: NodeJS.ProcessEnv): VoiceEngine | null {
  const bin = which('flite', env);
  if (!bin) return null;
  return { name: 'flite', speak: async (text, out) => void (await run('flite', bin, ['-voice', 'slt', '-t', text, '-o', out])) };
}

function espeak(env: NodeJS.ProcessEnv): VoiceEngine | null {
  const bin = which('espeak-ng', env);
  if (!bin) return null;
  return { name: 'espeak-ng', speak: async (text, out) => void (await run('espeak-ng', bin, ['-v', 'en-us', '-s', '165', '-w', out, '--', text])) };
}

const ENGINES = { piper, festival, flite, 'espeak-ng': espeak } as const;

/**
 * The voice to use: STOCKADE_VOICE when set (piper, festival, flite, espeak-ng), otherwise Piper when
 * STOCKADE_PIPER_BIN and STOCKADE_PIPER_MODEL are set, then Festival's HTS voice, flite, espeak-ng.
 */
export function findVoice(env: NodeJS.ProcessEnv = process.env): VoiceEngine {
  const wanted = env.STOCKADE_VOICE;
  if (wanted) {
    const make = ENGINES[wanted as keyof typeof ENGINES];
    if (!make) throw new StkError('STK_ERR_CONFIG', `STOCKADE_VOICE must be one of ${Object.keys(ENGINES).join(', ')}`, { value: wanted });
    const engine = make(env);
    if (!engine) {
      const pkg = wanted === 'piper' ? 'STOCKADE_PIPER_BIN and STOCKADE_PIPER_MODEL' : wanted === 'festival' ? 'festival festvox-us-slt-hts' : wanted;
      throw new StkError(
        'STK_ERR_VIDEO_TOOL_MISSING',
        `the voice ${wanted} is not available (${wanted === 'piper' ? 'set' : 'Debian: apt-get install'} ${pkg})`,
        {
          tool: wanted,
          package: pkg,
        },
      );
    }
    return engine;
  }
  for (const make of Object.values(ENGINES)) {
    const engine = make(env);
    if (engine) return engine;
  }
  throw new StkError(
    'STK_ERR_VIDEO_TOOL_MISSING',
    'no voice is installed: install festival with its HTS voice (Debian: apt-get install festival festvox-us-slt-hts), or flite, or espeak-ng; or set STOCKADE_PIPER_BIN and STOCKADE_PIPER_MODEL',
    { tool: 'voice', package: 'festival festvox-us-slt-hts' },
  );
}

/** One spoken sentence, ready to be placed: mono, SAMPLE_RATE, silence trimmed at both ends. */
export interface Sentence {
  text: string;
  file: string;
  samples: number;
  seconds: number;
}

// Silence before and after the voice is cut, so the file starts on the first sound: a cue that
// starts with the file starts with the sentence. The threshold is below any speech sound.
const TRIM = 'silenceremove=start_periods=1:start_threshold=-50dB:start_silence=0.01';

/** Speaks one sentence into `out` (WAV, pcm_s16le, mono, SAMPLE_RATE) and measures it with ffprobe. */
export async function speakSentence(engine: VoiceEngine, ff: Ffmpeg, text: string, out: string, scratch: string): Promise<Sentence> {
  const raw = `${out}.raw.wav`;
  await engine.speak(text, raw, scratch);
  await ff.run(['-v', 'error', '-i', raw, '-af', `${TRIM},areverse,${TRIM},areverse,aresample=${SAMPLE_RATE}`, '-ac', '1', '-c:a', 'pcm_s16le', out]);
  const { samples, seconds, sampleRate } = await ff.audioLength(out);
  if (sampleRate !== SAMPLE_RATE || samples < SAMPLE_RATE / 10)
    throw new StkError('STK_ERR_VIDEO_RENDER_FAILED', `the voice ${engine.name} produced no speech for ${JSON.stringify(text)}`, {
      tool: engine.name,
      exitCode: 0,
    });
  return { text, file: out, samples, seconds };
}
