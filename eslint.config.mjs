// eslint.config.mjs — the JS linter (`npm run lint`) for the dashboard
// (web/, browser ES modules) and the Node test suites and benchmarks
// (tests/, bench/, scripts/ *.mjs). ESLint's recommended rules plus a few
// that catch real mistakes; no style rules (formatting is not linted).
import js from '@eslint/js';
import globals from 'globals';

export default [
  { ignores: ['node_modules/**', 'build*/**', 'var/**'] },
  js.configs.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      'no-unused-vars': [
        'error',
        { args: 'after-used', argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      'no-var': 'error',
      'prefer-const': ['error', { destructuring: 'all' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-implicit-globals': 'error',
    },
  },
  {
    files: ['web/**/*.js'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { ...globals.browser } },
    rules: {
      // the dashboard never builds markup from strings (dom.js: text goes in via textContent)
      'no-restricted-properties': [
        'error',
        { property: 'innerHTML', message: 'Use h() from js/dom.js: API strings must never become markup.' },
        { property: 'outerHTML', message: 'Use h() from js/dom.js.' },
      ],
      'no-eval': 'error',
      'no-implied-eval': 'error',
    },
  },
  {
    files: ['tests/**/*.mjs', 'bench/**/*.mjs', 'scripts/**/*.mjs', 'eslint.config.mjs'],
    languageOptions: { ecmaVersion: 2024, sourceType: 'module', globals: { ...globals.node } },
  },
  {
    // Playwright runs the functions these files pass to page.evaluate() and
    // page.waitForFunction() inside the page: browser globals are real there.
    files: ['tests/browser/**/*.mjs', 'bench/dashboard*.mjs', 'bench/widget*.mjs'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
];
