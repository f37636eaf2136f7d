// Writes schema/<kind>.schema.json, the JSON Schemas shipped in the package for editors and validators, from the
// zod schemas (src/cli/schemas.ts): byte for byte what `swarmup schema <kind>` prints. `npm run docs` runs it;
// test/unit/schemas.test.ts fails when a file is stale.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderJsonSchema, shippedSchemas, type SchemaKind } from '../src/cli/schemas.ts';

export const schemaPath = (kind: SchemaKind): string =>
  fileURLToPath(new URL(`../schema/${kind}.schema.json`, import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const kind of shippedSchemas) {
    mkdirSync(dirname(schemaPath(kind)), { recursive: true });
    writeFileSync(schemaPath(kind), renderJsonSchema(kind));
    console.log(`wrote ${schemaPath(kind)}`);
  }
}
