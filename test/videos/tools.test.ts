import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { Ffmpeg } from '../../src/videos/ffmpeg.ts';
import { findToolset } from '../../src/videos/render.ts';
import { findChromium, findFfmpeg, which } from '../../src/videos/tools.ts';
import { findVoice, SAMPLE_RATE, speakSentence } from '../../src/videos/voice.ts';
import { throws } from '../helpers/assert.ts';
import { tempDir } from '../helpers/nats.ts';

/**
 * The programs of the pipeline: a missing one is named with its Debian package, and every voice
 * installed here speaks a sentence into a trimmed 48 kHz mono file whose length ffprobe measures.
 */
const test = suite('videos: tools and voices');
const NOTHING = { PATH: '/nonexistent' };

test('a missing ffmpeg, ffprobe, chromium or voice is named, with the package to install', () => {
  const ff = throws(() => findFfmpeg(NOTHING), 'STK_ERR_VIDEO_TOOL_MISSING');
  assert.equal(ff.data, { tool: 'ffmpeg', package: 'ffmpeg' });
  assert.match(ff.message, /ffmpeg is not installed \(Debian: apt-get install ffmpeg\)/);
  const probe = throws(() => findFfmpeg({ ...process.env, STOCKADE_FFPROBE: '/nonexistent/ffprobe' }), 'STK_ERR_VIDEO_TOOL_MISSING');
  assert.is(probe.data.tool, 'ffprobe');
  const browser = throws(() => findChromium({ ...process.env, STOCKADE_CHROMIUM: '/nonexistent/chromium' }), 'STK_ERR_VIDEO_TOOL_MISSING');
  assert.equal(browser.data, { tool: 'chromium', package: 'chromium' });
  const voice = throws(() => findVoice(NOTHING), 'STK_ERR_VIDEO_TOOL_MISSING');
  assert.is(voice.data.tool, 'voice');
  assert.match(voice.message, /festival festvox-us-slt-hts/);
  // The whole set is checked before any work: the first missing tool stops it.
  assert.is(throws(() => findToolset(NOTHING), 'STK_ERR_VIDEO_TOOL_MISSING').data.tool, 'ffmpeg');
});

test('a voice asked for by name must be there; Piper needs both its binary and its model', () => {
  const piper = throws(() => findVoice({ ...process.env, STOCKADE_VOICE: 'piper', STOCKADE_PIPER_BIN: '/nonexistent/piper' }), 'STK_ERR_VIDEO_TOOL_MISSING');
  assert.is(piper.data.tool, 'piper');
  assert.match(piper.message, /STOCKADE_PIPER_BIN and STOCKADE_PIPER_MODEL/);
  throws(() => findVoice({ ...process.env, STOCKADE_VOICE: 'sam' }), 'STK_ERR_CONFIG');
  // Piper configured but not installed does not stop the default from being found.
  assert.is.not(findVoice({ ...process.env, STOCKADE_PIPER_BIN: '/nonexistent/piper', STOCKADE_PIPER_MODEL: '/nonexistent.onnx' }).name, 'piper');
});

test('the default voice on a machine set up for the tests is Festival with the HTS voice', () => {
  assert.is(findVoice({ PATH: process.env.PATH }).name, 'festival');
});

test('every installed voice speaks a sentence: 48 kHz mono, silence trimmed, measured in samples', async () => {
  const ff = new Ffmpeg(findFfmpeg());
  const dir = await tempDir('stk-voice-');
  try {
    const engines = (['festival', 'flite', 'espeak-ng'] as const).filter((e) => which(e === 'festival' ? 'text2wave' : e));
    assert.ok(engines.includes('festival'), 'festival is installed');
    for (const name of engines) {
      const engine = findVoice({ ...process.env, STOCKADE_VOICE: name });
      assert.is(engine.name, name);
      const s = await speakSentence(engine, ff, 'The alerts page lists what the agents raised.', join(dir.path, `${name}.wav`), dir.path);
      const p = await ff.probe(s.file);
      assert.is(p.streams[0]!.sample_rate, String(SAMPLE_RATE), name);
      assert.is(p.streams[0]!.channels, 1, name);
      assert.is(s.samples, p.streams[0]!.duration_ts, name);
      assert.ok(s.seconds > 1 && s.seconds < 6, `${name}: ${s.seconds} s`);
      // Trimmed: sound from the first 20 ms on, so a cue that starts with the file starts with the voice.
      const { stderr } = await ff.run([
        '-v',
        'info',
        '-i',
        s.file,
        '-af',
        'atrim=end=0.02,astats=measure_overall=Peak_level:measure_perchannel=0',
        '-f',
        'null',
        '-',
      ]);
      const peak = Number(/Peak level dB:\s*(-?[\d.]+|-inf)/.exec(stderr)?.[1]);
      assert.ok(peak > -50, `${name}: the first 20 ms peak at ${peak} dB`);
    }
  } finally {
    await dir.cleanup();
  }
});

test.run();
