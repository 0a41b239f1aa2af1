import { readFile } from 'node:fs/promises';
import SwaggerParser from '@apidevtools/swagger-parser';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { OPENAPI_PATH, servedOpenApi } from './openapi-document.ts';

const test = suite('the OpenAPI document in docs/');

test('docs/api/openapi.json is the document the API serves (regenerate: node --import tsx infra/gen-openapi.ts)', async () => {
  const served = await servedOpenApi();
  const committed = await readFile(OPENAPI_PATH, 'utf8');
  // Compared as objects first, so a failure names the first path that differs rather than a line.
  const a = JSON.parse(committed);
  const b = JSON.parse(served);
  for (const p of new Set([...Object.keys(a.paths), ...Object.keys(b.paths)])) assert.equal(a.paths[p], b.paths[p], `path ${p}`);
  assert.fixture(committed, served);
});

test('the document is valid OpenAPI 3.0 (a standard validator), and every error answer refers to the error envelope', async () => {
  const doc = JSON.parse(await readFile(OPENAPI_PATH, 'utf8'));
  await SwaggerParser.validate(structuredClone(doc));
  const gated = [];
  for (const [path, ops] of Object.entries<Record<string, { responses: Record<string, any> }>>(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      for (const [status, r] of Object.entries(op.responses)) {
        if (Number(status) >= 400) assert.equal(r.content['application/json'].schema, { $ref: '#/components/schemas/Error' }, `${method} ${path} ${status}`);
      }
      if (op.responses['202']) gated.push(`${method.toUpperCase()} ${path}`);
    }
  }
  // The routes a four-eyes policy can turn into a request say so.
  assert.ok(gated.includes('POST /api/v1/tenants/{tenant}/agents/{agentId}/commands'), gated.join('\n'));
  assert.ok(gated.includes('POST /api/v1/tenants/{tenant}/detection/custom-rules'), gated.join('\n'));
  assert.ok(gated.includes('DELETE /api/v1/tenants/{tenant}'), gated.join('\n'));
});

test.run();
