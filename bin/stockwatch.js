#!/usr/bin/env node
'use strict';
// The compiled CLI lives in dist/ (built by `npm run build`, which `npm ci` runs via `prepare`).
require('../dist/cli.js')
  .main(process.argv.slice(2))
  .then(({ exitNow }) => {
    // With process.exitCode as main set it; see exitWhenDone in src/cli.ts.
    if (exitNow) process.exit();
  });
