/**
 * The OpenAPI document of the operator API as a running install serves it at `GET /docs`: built
 * from the same schemas that validate requests. `docs/api/openapi.json` is this document, written
 * by `node --import tsx infra/gen-openapi.ts` and pinned by `test/docs/openapi.test.ts`.
 */
import { resolve } from 'node:path';
import { API_PLUGINS } from '../../src/roles.ts';
import { apiFixture } from '../helpers/api.ts';

export const OPENAPI_PATH = resolve(import.meta.dirname, '../../docs/api/openapi.json');

/** Starts an install (a real nats-server), reads its document, stops it; the text as committed. */
export async function servedOpenApi(): Promise<string> {
  const f = await apiFixture({ plugins: API_PLUGINS });
  try {
    const r = await f.call('GET', '/docs', { token: null });
    if (r.status !== 200) throw new Error(`GET /docs answered ${r.status}`);
    return `${JSON.stringify(r.body, null, 2)}\n`;
  } finally {
    await f.cleanup();
  }
}
