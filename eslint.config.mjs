// Lint: typed rules for promises, and the layering of the source tree checked by a machine.
import tseslint from 'typescript-eslint';

const pureNoNode = {
  patterns: [
    { group: ['node:*', 'fs', 'child_process', 'net', 'tty', 'os', 'koffi'], message: 'pure module: no I/O here (inject it)' },
    { group: ['**/line/*', '**/session/runner*', '**/login/*', '**/daemon/*', '**/cli/*', '**/sim/*'], message: 'pure module: layering' },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bin/**', 'scripts/**/*.mjs', 'eslint.config.mjs'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // koffi returns untyped values; the wrapper narrows them.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  // Pure layers: parsers and machines take time and I/O as inputs.
  {
    files: ['src/core/**/*.ts', 'src/modem/**/*.ts', 'src/chat/**/*.ts', 'src/session/machine*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', pureNoNode] },
  },
  {
    files: ['src/config/**/*.ts'],
    ignores: ['**/*.test.ts', 'src/config/load.ts'],
    rules: { 'no-restricted-imports': ['error', pureNoNode] },
  },
  // The simulator is an independent implementation: it may not share the getty's parsers.
  // Of the getty's fax side only the T.4 codec (src/fax/codec) is allowed: it is checked pixel
  // for pixel against netpbm, libtiff and Ghostscript, and the virtual fax machine needs it to
  // turn PBM into pages. The class 2 receiver (src/fax/class2) and the rest stay out, so the
  // sim's fax modem stays a second implementation of the protocol. The same path is
  // `../fax/` from src/sim and `../../fax/` one folder down (src/sim/fax is the sim's own).
  ...[['src/sim/*.ts', '^\\.\\./fax/(?!codec/)'], ['src/sim/*/**/*.ts', '^\\.\\./\\.\\./fax/(?!codec/)']].map(([files, regex]) => ({
    files: [files],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/modem/*', '**/chat/*', '**/config/*', '**/session/*', '**/login/*', '**/daemon/*'], message: 'src/sim must not import the getty (one bug could hide on both sides)' },
          { regex, message: 'src/sim may use the getty\'s fax codec (src/fax/codec) only' },
        ],
      }],
    },
  })),
  // The lower layers never reach up.
  {
    files: ['src/line/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/session/*', '**/login/*', '**/daemon/*', '**/cli/*', '**/sim/*'], message: 'layering' }] }] },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', name: ['test', 'it', 'describe', 'suite'], package: 'node:test' }] }],
    },
  },
);
