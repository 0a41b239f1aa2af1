import * as assert from 'uvu/assert';
import { StkError, type ErrorCode } from '../../src/errors.ts';

/** Asserts that `p` rejects with a StkError of `code`; returns the error for further checks. */
export async function rejects(p: Promise<unknown>, code: ErrorCode): Promise<StkError> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof StkError)) assert.unreachable(`expected ${code}, got ${(err as Error)?.stack ?? err}`);
    assert.is((err as StkError).code, code);
    return err as StkError;
  }
  assert.unreachable(`expected rejection with ${code}, but it resolved`);
  throw new Error('unreachable');
}

/** Asserts that `fn` throws a StkError of `code` synchronously. */
export function throws(fn: () => unknown, code: ErrorCode): StkError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StkError, `expected StkError, got ${err}`);
    assert.is((err as StkError).code, code);
    return err as StkError;
  }
  assert.unreachable(`expected ${code}`);
  throw new Error('unreachable');
}
