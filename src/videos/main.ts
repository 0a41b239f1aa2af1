// `npm run videos -- [options]`: the video pipeline without the compiled CLI (docs/videos/specs/README.md).
import { Command } from 'commander';
import { isStkError } from '../errors.ts';
import { videosCommand } from './cli.ts';

try {
  await videosCommand(new Command('videos')).parseAsync(process.argv);
} catch (err) {
  console.error(isStkError(err) ? `videos: ${err.message} (${err.code})` : `videos: ${(err as Error)?.stack ?? err}`);
  process.exitCode = 1;
}
