// ESLint for the whole repository (`npm run lint`). Formatting is prettier's job (.prettierrc.json);
// nothing here is a style rule.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const SANDBOX = 'src/sandbox';

/**
 * The sandbox fragments are concatenated into one scope (src/sandbox/bundle.ts), so each may call a
 * function another declares: every top-level `function NAME` / `var NAME` of every fragment is a
 * global to the others, found the same way bundle.ts finds them.
 */
function sandboxDeclarations() {
  const names = {};
  const dirs = [SANDBOX, join(SANDBOX, 'lib'), join(SANDBOX, 'bruno')];
  for (const dir of dirs) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
      // Writable: the Bruno glue wraps a library function (serializeEnvelope) by assigning to it.
      for (const m of readFileSync(join(dir, file), 'utf8').matchAll(/^(?:function|var) ([A-Za-z0-9_]+)/gm))
        names[m[1]] = 'writable';
    }
  }
  return names;
}

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist-tools/**',
      'coverage/**',
      'reports/**',
      '.wxpay-demo/**',
      'collections/**',
      'templates/**',
    ],
  },

  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: {
      globals: globals.node,
      // One program over src, test and examples (tsconfig.test.json): type-aware rules at one tsc's cost.
      parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Output is sanitised on purpose: several modules strip or escape control characters.
      'no-control-regex': 'off',
      // Type-aware, and the bugs worth the cost: a promise nobody awaits loses its error.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false, attributes: false } },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },

  {
    // Where Node code meets untyped runtime objects: newman's run summary and events, postman-collection
    // internals, the sandbox's functions loaded into a vm. Everywhere else `any` is an error.
    files: [
      'src/runner/run-collection.ts',
      'src/judge/answer.ts',
      'tools/bench/harness.ts',
      'src/sandbox/bundle.ts',
      'src/collection/build-bruno.ts',
    ],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },

  {
    // Tests drive untyped surfaces (the Postman sandbox, newman's summary, deliberately bad input).
    files: ['test/**/*.ts', 'examples/**/*.test.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },

  {
    // Plain-JS fragments that run inside Postman/Newman, the Postman app and Bruno: ES5-style function
    // declarations (plus BigInt) in one shared scope, with the sandbox's globals and the constants
    // sandboxConstants() (src/collection/sandbox-scripts.ts) injects as `var NAME = <json>;`.
    files: [`${SANDBOX}/**/*.js`],
    extends: [js.configs.recommended],
    languageOptions: {
      ecmaVersion: 2020,
      sourceType: 'script',
      globals: {
        ...sandboxDeclarations(),
        // Postman's pm; Bruno's bru, req, res and test (the Bruno glue only); crypto-js as the wrapper requires it.
        pm: 'readonly',
        bru: 'readonly',
        req: 'readonly',
        res: 'readonly',
        test: 'readonly',
        CryptoJS: 'readonly',
        Buffer: 'readonly',
        console: 'readonly',
        BigInt: 'readonly',
        CASE_HEADER: 'readonly',
        CALLBACK_HEADERS: 'readonly',
        NOT_SENT_URL: 'readonly',
        V3: 'readonly',
        HINTS: 'readonly',
        JUDGE: 'readonly',
        SECRET_VARIABLES: 'readonly',
        BRUNO: 'readonly',
      },
    },
    rules: {
      // The bundler keeps only what the entry reaches; a fragment's function is "used" by another file.
      'no-unused-vars': 'off',
      // Every fragment's declarations are globals (above) so calls across files resolve; redeclaring
      // them is what bundle.ts forbids, so this rule only repeats that check with false positives.
      'no-redeclare': 'off',
    },
  },

  {
    // Bruno runs a collection script as the body of an async function (bundleBrunoScript): the entries
    // await at their top level, which parses as a module.
    files: [`${SANDBOX}/bruno/prerequest.js`, `${SANDBOX}/bruno/test.js`],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
  },

  {
    files: ['**/*.mjs', '**/*.cjs'],
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['eslint.config.js'],
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.node },
  },
);
