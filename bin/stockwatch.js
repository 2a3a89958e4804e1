#!/usr/bin/env node
'use strict';
// Compiled modules come from a V8 code cache where one can be kept safely (src/compile-cache.ts):
// it spares each command a good part of compiling its dependencies anew.
require('../dist/compile-cache.js').installCompileCache(process.argv[2] ?? '');
// The compiled CLI lives in dist/ (built by `npm run build`, which `npm ci` runs via `prepare`).
require('../dist/cli.js')
  .main(process.argv.slice(2))
  .then(({ exitNow }) => {
    // With process.exitCode as main set it; see exitWhenDone in src/cli.ts.
    if (exitNow) process.exit();
  });
