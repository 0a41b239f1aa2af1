/** Writes docs/api/openapi.json from a running install's `GET /docs`: `node --import tsx infra/gen-openapi.ts`. */
import { writeFile } from 'node:fs/promises';
import { OPENAPI_PATH, servedOpenApi } from '../test/docs/openapi-document.ts';

await writeFile(OPENAPI_PATH, await servedOpenApi());
