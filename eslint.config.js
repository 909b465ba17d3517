// Flat config: typescript-eslint with type information, so that
// no-floating-promises can see which calls return promises.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const DRIVERS = ['knex', 'mysql2', 'better-sqlite3'];
const DRIVER_NAMES = '/^(knex|mysql2|better-sqlite3)(\\u002F|$)/';
const HANDLE_NAMES = '/^(db|trx|knex)$/';
const OUTSIDE_DB =
  'Only src/db/ builds queries: add a typed function there (one concept per file) and call it.';

export default tseslint.config(
  { ignores: ['dist/', 'var/', 'node_modules/', 'bench/results/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // knex query results are typed loosely; the row-shape casts are deliberate.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      'max-lines': ['warn', { max: 250, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['warn', { max: 60, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // The data layer's boundary: only src/db/ (and migrations/) know SQL. Everything else gets typed
    // functions from db/ and passes the handle on as the type-only `Db` of src/db/connect.ts. The
    // query-builder selectors go by the handle's name (db, trx, knex, x.db): built-in rules see syntax,
    // not types, and every handle in src/ is called that. test/ and bench/ read rows and are exempt.
    files: ['src/**/*.ts'],
    ignores: ['src/db/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: DRIVERS.map((name) => ({ name, message: OUTSIDE_DB })),
          patterns: [{ group: DRIVERS.map((name) => `${name}/*`), message: OUTSIDE_DB }],
        },
      ],
      'no-restricted-syntax': [
        'error',
        ...[
          `ImportExpression[source.value=${DRIVER_NAMES}]`,
          `TSImportType[argument.literal.value=${DRIVER_NAMES}]`,
          // db('media_files'), trx('…'), this.db('…'), options.db('…'): a query builder.
          `CallExpression[callee.name=${HANDLE_NAMES}]`,
          `CallExpression[callee.property.name=${HANDLE_NAMES}]`,
          // db.raw(…), db.transaction(…), db.schema, trx.select(…) …: everything but closing the pool.
          `MemberExpression[object.name=${HANDLE_NAMES}][property.name!='destroy']`,
          `MemberExpression[object.property.name=${HANDLE_NAMES}][property.name!='destroy']`,
        ].map((selector) => ({ selector, message: OUTSIDE_DB })),
      ],
    },
  },
  {
    files: ['test/**', 'bench/**'],
    // expect.any() and friends are typed any by vitest.
    rules: {
      'max-lines-per-function': 'off',
      'max-lines': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
  {
    // The dashboard's browser script: plain JavaScript, run by the browser, not by Node.
    files: ['assets/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'script',
      globals: {
        document: 'readonly',
        window: 'readonly',
        location: 'readonly',
        fetch: 'readonly',
        HTMLFormElement: 'readonly',
        setInterval: 'readonly',
      },
    },
  },
);
