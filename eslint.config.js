import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', 'node_modules/**', '**/*.d.ts'] },
  js.configs.recommended,
  { files: ['**/*.js', '**/*.mjs'], languageOptions: { globals: globals.node } },
  ...tseslint.configs.strict,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { varsIgnorePattern: '^_', argsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    // The pure packages: no host modules. The compiler (types: []) and
    // test/architecture.test.ts enforce the same rule; this gives a fast message.
    files: ['packages/format/src/**/*.ts', 'packages/verify/src/**/*.ts', 'packages/client/src/**/*.ts'],
    ignores: ['packages/format/src/node/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['fs', 'path', 'os', 'crypto', 'http', 'https', 'net', 'tls', 'dgram', 'child_process', 'worker_threads', 'stream', 'buffer', 'process'].map((name) => ({ name, message: 'The format core and the verifier are pure: no I/O or host modules.' })),
          patterns: [{ group: ['node:*'], message: 'The format core and the verifier are pure: no I/O or host modules.' }],
        },
      ],
    },
  },
);
