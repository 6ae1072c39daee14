// ESLint 9 flat config: typescript-eslint's `strict` set for every TypeScript
// file, plus the type-aware rules that catch real bugs in async code (a
// promise nobody awaits, a promise where a callback's return is ignored). The
// layering rules live in .dependency-cruiser.cjs, dead code in knip.json.
// Turn a rule off only with a comment that says why.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const TS_FILES = ['src/**/*.ts', 'test/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts', 'vitest.config.ts'];
const JS_FILES = ['bin/**/*.js', 'test/**/*.mjs', '*.js', '*.cjs'];

// The Node.js globals our plain-JS files use. Listed by hand rather than by
// the `globals` package, which is not a dependency of this project.
const NODE_GLOBALS = {
  process: 'readonly',
  console: 'readonly',
  Buffer: 'readonly',
  URL: 'readonly',
  setTimeout: 'readonly',
  clearTimeout: 'readonly',
  module: 'writable',
  require: 'readonly',
};

export default defineConfig(
  {
    // Generated, vendored or not ours: the compiled CLI, the lab's state, the
    // render command's output, golden expected output.
    ignores: ['dist/**', 'node_modules/**', '.lab/**', '.lab-*/**', 'render-out/**', 'test/golden/**', 'coverage/**'],
  },
  {
    files: [...TS_FILES, ...JS_FILES],
    extends: [js.configs.recommended],
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  {
    files: TS_FILES,
    extends: [tseslint.configs.strict],
    languageOptions: {
      parserOptions: {
        // The project service uses tsconfig.json for src/test/scripts/bench;
        // vitest.config.ts is outside its `include`, so it gets the default
        // project (a handful of files at most, which is what it allows).
        projectService: { allowDefaultProject: ['vitest.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // tsconfig's noUncheckedIndexedAccess types every `a[i]` and regex group
      // as possibly undefined; `x!` is where the code states an invariant its
      // own logic guarantees (a group of a regex that matched, an index below
      // the length just checked). The rule would ask for a runtime check that
      // cannot fire, so the compiler option is the guard here, not this rule.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // A promise that is neither awaited nor handled loses its rejection:
      // an SSH failure becomes an unhandled rejection or, worse, nothing.
      '@typescript-eslint/no-floating-promises': 'error',
      // An async callback where a void one is expected (forEach, event
      // handlers, `if (promise)`) runs unordered and its errors go nowhere.
      '@typescript-eslint/no-misused-promises': 'error',
      // `await` on something that is not a promise usually means the callee
      // changed from async to sync (or the wrong function is awaited).
      '@typescript-eslint/await-thenable': 'error',
      // `return promise` inside try { } skips the catch/finally when the
      // promise rejects: the cleanup (closing a connection, revoking a
      // token) does not see the failure it was written for.
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      // A switch over a union (OS family, phase, step outcome) that misses a
      // member silently takes the default branch; issue 10 asks that adding
      // a family makes the compiler and the linter name every place. With
      // the rule's defaults a `default:` does not count as covering the
      // missing members: list them, or end in a `never` check.
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      // `_`-prefixed names are the project's way to say "unused on purpose"
      // (the TypeScript compiler's noUnused* options agree).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // In a test, `x!` on a missing value throws and the test fails, which
      // is the outcome we want; the rule protects production code from a
      // TypeError far from the cause, a risk tests do not carry. Spelling
      // out a guard before every lookup in an assertion hides what is tested.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: JS_FILES,
    languageOptions: {
      globals: NODE_GLOBALS,
      sourceType: 'module',
    },
  },
  {
    files: ['*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
  },
);
