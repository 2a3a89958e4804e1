// After tsc: bundle the CLI and the dependencies it loads into one file, dist/stockwatch.js, which
// bin/stockwatch.js runs. A command then reads, hashes and compiles one file instead of ~480
// (BullMQ alone is ~250 modules): `poll --once` at 10,000 items starts ~100 ms sooner (issue 14,
// docs/performance.md "Sixth pass"). Modules stay lazy: each is wrapped and runs on first require,
// so `check` still never runs BullMQ's code.
//
// Whitespace is minified (a third smaller, and measurably quicker to hash and load than the plain
// bundle); names are kept, so stack traces stay readable, and the linked source map (through tsc's
// own maps) points at src/ under `node --enable-source-maps`.
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');

esbuild.buildSync({
  entryPoints: [path.join(root, 'dist/cli.js')],
  outfile: path.join(root, 'dist/stockwatch.js'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minifyWhitespace: true,
  sourcemap: 'linked',
  sourcesContent: false,
  // msgpackr's native addon finds its binary relative to its own package: it must load from
  // node_modules (bundled, it would silently fall back to the slower pure-JS decoder).
  external: ['msgpackr-extract'],
  logLevel: 'warning',
});
