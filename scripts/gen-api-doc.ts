// Writes docs/spec/openapi.json, the machine-readable HTTP API, from the
// document the service serves at /openapi.json (a test keeps the two equal).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openApiDocument } from '@trailseal/server';

writeFileSync(fileURLToPath(new URL('../../../docs/spec/openapi.json', import.meta.url)), `${JSON.stringify(JSON.parse(openApiDocument()), null, 2)}\n`);
console.log('wrote docs/spec/openapi.json');
