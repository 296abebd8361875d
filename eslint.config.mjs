// Lint: typed rules for promises, and the layering of the source tree checked by a machine.
//
// The layers (docs/architecture.md): an arrow is "may import".
//   core <- os <- line, log                     (os: the platform; line: the tty)
//   core <- modem <- chat <- config             (pure parsers)
//   ... <- session <- login <- daemon <- cli    (the call, the login stage, the supervisor)
//   fax: its pure codec/protocol rooms, and the spool and reception on a line
//   sim: apart, an independent modem: core, os, line and the fax codec only
// Every src folder gets one rule: the folders it may not import, by path depth, so
// `../fax/` from src/sim/at (which is src/sim/fax) is not mistaken for src/fax.
import tseslint from 'typescript-eslint';

const FOLDERS = ['core', 'os', 'modem', 'chat', 'config', 'fax', 'line', 'log', 'session', 'login', 'daemon', 'cli', 'sim', 'demo'];

/** What each folder may import besides itself. */
const MAY_IMPORT = {
  core: [],
  os: ['core'],
  modem: ['core'],
  chat: ['core', 'modem'],
  config: ['core', 'modem', 'chat'],
  line: ['core', 'os'],
  log: ['core', 'os'],
  fax: ['core', 'os', 'modem', 'line', 'log'],
  session: ['core', 'os', 'modem', 'chat', 'config', 'line', 'log', 'fax'],
  login: ['core', 'os', 'modem', 'chat', 'config', 'line', 'log', 'session', 'fax'],
  daemon: ['core', 'os', 'modem', 'chat', 'config', 'line', 'log', 'session', 'login', 'fax'],
  cli: ['core', 'os', 'modem', 'chat', 'config', 'line', 'log', 'session', 'login', 'daemon', 'fax', 'sim', 'demo'],
  // The simulator shares no parser with the getty, so one bug cannot hide on both sides.
  // The T.4 codec is the exception: it is checked against netpbm, libtiff and Ghostscript.
  sim: ['core', 'os', 'line', 'fax/codec'],
  demo: ['core', 'os'],
};

/** Pure rooms: no I/O module at all (time and I/O come in as inputs). */
const PURE_FILES = [
  'src/core/**/*.ts', 'src/modem/**/*.ts', 'src/chat/**/*.ts', 'src/config/**/*.ts',
  'src/session/machine*.ts', 'src/login/machine.ts',
  'src/fax/codec/**/*.ts', 'src/fax/class2/**/*.ts', 'src/fax/page.ts', 'src/fax/tiff.ts', 'src/fax/pdf.ts', 'src/fax/names.ts',
];
/** Pure by path, but reading files is their job. */
const PURE_EXCEPT = ['src/config/load.ts', 'src/core/paths.ts'];
const NO_IO = { group: ['node:*', 'fs', 'child_process', 'net', 'tty', 'os', 'koffi'], message: 'pure module: no I/O here (inject it)' };

function escape(s) {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** no-restricted-imports patterns for a file `depth` folders below src/<folder>. */
function layerPatterns(folder, depth) {
  const up = '\\.\\./'.repeat(depth + 1);
  const allowed = MAY_IMPORT[folder];
  const out = [];
  for (const other of FOLDERS) {
    if (other === folder) continue;
    const sub = allowed.filter((a) => a.startsWith(`${other}/`)).map((a) => a.slice(other.length + 1));
    if (allowed.includes(other)) continue;
    const rest = sub.length > 0 ? `(?!(${sub.map(escape).join('|')})/)` : '';
    out.push({ regex: `^${up}${other}/${rest}`, message: `layering: src/${folder} may import ${allowed.join(', ') || 'nothing else'} (docs/architecture.md)` });
  }
  // Nothing in src reaches into test/ or up out of src.
  out.push({ regex: `^${up}\\.\\./`, message: 'layering: src may not import from outside src' });
  return out;
}

function layering() {
  const configs = [];
  for (const folder of FOLDERS) {
    for (let depth = 0; depth <= 2; depth++) {
      const glob = `src/${folder}/${'*/'.repeat(depth)}*.ts`;
      const pure = PURE_FILES.some((p) => matchesPrefix(p, folder, depth));
      configs.push({
        files: [glob],
        ignores: ['**/*.test.ts'],
        rules: { 'no-restricted-imports': ['error', { patterns: layerPatterns(folder, depth) }] },
      });
      if (pure) {
        // The pure rooms get both lists, in one rule (a later rule object would replace it).
        configs.push({
          files: PURE_FILES.filter((p) => matchesPrefix(p, folder, depth)),
          ignores: ['**/*.test.ts', ...PURE_EXCEPT],
          rules: { 'no-restricted-imports': ['error', { patterns: [NO_IO, ...layerPatterns(folder, depth)] }] },
        });
      }
    }
  }
  return configs;
}

/** Does a PURE_FILES glob name files at this folder and depth? */
function matchesPrefix(glob, folder, depth) {
  if (!glob.startsWith(`src/${folder}/`)) return false;
  const rest = glob.slice(`src/${folder}/`.length);
  if (rest.startsWith('**/')) return true;
  return rest.split('/').length - 1 === depth;
}

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
  ...layering(),
  {
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', name: ['test', 'it', 'describe', 'suite'], package: 'node:test' }] }],
    },
  },
);
