// npm run vectors: (re)writes every generated vector and fixture file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateAll } from './vectors.js';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
for (const [path, content] of Object.entries(generateAll())) {
  mkdirSync(dirname(join(repo, path)), { recursive: true });
  writeFileSync(join(repo, path), content);
  console.log(`wrote ${path} (${content.length} bytes)`);
}
