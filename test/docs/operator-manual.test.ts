import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { apiFixture, type ApiFixture } from '../helpers/api.ts';

/**
 * The operator manual names routes; each must exist with that method in the OpenAPI document the
 * app builds from its route schemas, and each query parameter it shows must be accepted there.
 */
const test = suite('docs: every route and filter in the operator manual exists');
let f: ApiFixture;
test.before(async () => {
  f = await apiFixture();
});
test.after(async () => {
  await f?.cleanup();
});

test('operator-manual.md routes match the OpenAPI document', async () => {
  const manual = await readFile(join(import.meta.dirname, '../../docs/operator-manual.md'), 'utf8');
  const doc = (await f.call('GET', '/docs', { token: null })).body as {
    paths: Record<string, Record<string, { parameters?: Array<{ in: string; name: string }> }>>;
  };
  const mentions = [...manual.matchAll(/(GET|POST|PUT|PATCH|DELETE) (…|\/api\/v1)([^ `|\\]*)/g)];
  assert.ok(mentions.length >= 30, `found ${mentions.length}`);
  for (const [, method, base, rest] of mentions) {
    const [path, query] = (base === '…' ? `/api/v1/tenants/{tenant}${rest}` : `/api/v1${rest}`).split('?') as [string, string | undefined];
    // Concrete ids in examples (acme, default, edr) stand for the route's parameters.
    const pattern = path
      .replace(/^\/api\/v1\/tenants\/(acme|default)/, '/api/v1/tenants/{tenant}')
      .replace(/\/products\/[a-z-]+$/, '/products/{product}')
      .replace(/:([A-Za-z]+)/g, '{$1}');
    const op = doc.paths[pattern]?.[method!.toLowerCase()];
    assert.ok(op, `${method} ${pattern} (from the manual) is not a route`);
    for (const pair of (query ?? '').split('&').filter(Boolean)) {
      const name = pair.split('=')[0]!;
      assert.ok(
        op!.parameters?.some((p) => p.in === 'query' && p.name === name),
        `${method} ${pattern} has no query parameter ${name}`,
      );
    }
  }
});

test.run();
