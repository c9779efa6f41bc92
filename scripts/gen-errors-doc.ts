import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderErrorsDoc } from './errors-doc.js';

writeFileSync(fileURLToPath(new URL('../../../docs/errors.md', import.meta.url)), renderErrorsDoc());
console.log('wrote docs/errors.md');
