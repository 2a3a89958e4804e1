#!/usr/bin/env node
'use strict';
// Compiled modules come from a V8 code cache where one can be kept safely (src/compile-cache.ts):
// it spares each command a good part of compiling its dependencies anew.
require('../dist/compile-cache.js').installCompileCache(process.argv[2] ?? '');
// `stockwatch replay … | head`: the reader has what it wanted once it closes the pipe; that is no
// error of ours (and, unhandled, it would print a stack trace).
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});
// The CLI and its dependencies in one file (dist/stockwatch.js, bundled from dist/cli.js by
// scripts/bundle.js in `npm run build`, which `npm ci` runs via `prepare`): one file to load
// instead of ~480.
require('../dist/stockwatch.js')
  .main(process.argv.slice(2))
  .then(({ exitNow }) => {
    // With process.exitCode as main set it; see exitWhenDone in src/cli.ts.
    if (exitNow) process.exit();
  });
