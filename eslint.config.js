// The lint CI runs: promise mistakes (a rejection nobody handles ends berthd) and a few
// type-aware checks. `npx eslint .` from the repository root.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test runs what test() and describe() return itself.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    // In the daemon, a function that returns a promise is async, so a throw in it rejects
    // instead of escaping its caller's .catch (a restart timer's start() of a removed
    // container once ended berthd that way).
    files: ['src/**/*.ts'],
    rules: { '@typescript-eslint/promise-function-async': ['error', { checkArrowFunctions: false }] },
  },
);
