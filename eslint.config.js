import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', 'node_modules/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // The pure packages: no host modules. The compiler (types: []) and
    // test/architecture.test.ts enforce the same rule; this gives a fast message.
    files: ['packages/format/src/**/*.ts', 'packages/verify/src/**/*.ts'],
    ignores: ['packages/format/src/node/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*', 'fs', 'path', 'os', 'crypto', 'http', 'https', 'net', 'child_process', 'worker_threads'], message: 'The format core and the verifier are pure: no I/O or host modules.' }] }],
    },
  },
);
