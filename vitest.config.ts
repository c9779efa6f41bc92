import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { ClosingLineReporter } from './test-support/closing-line-reporter.js';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources; the Node.js entry installs the
    // node:crypto provider exactly as the published package does.
    alias: [
      { find: /^@trailseal\/format(\/node)?$/, replacement: here('./packages/format/src/node/index.ts') },
      { find: /^@trailseal\/verify$/, replacement: here('./packages/verify/src/index.ts') },
      { find: /^@trailseal\/client$/, replacement: here('./packages/client/src/index.ts') },
      { find: /^@trailseal\/server$/, replacement: here('./packages/server/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    reporters: ['default', new ClosingLineReporter()],
    testTimeout: 30_000,
    pool: 'forks',
  },
});
