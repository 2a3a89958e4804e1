// After an incremental build: remove files in dist/ whose source is gone. A module moved from
// src/notify/email.ts to src/notify/email/index.ts would otherwise leave dist/notify/email.js
// behind, and require('./email') would load the stale file before the new folder.
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');

function prune(dir) {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      prune(file);
      if (fs.readdirSync(file).length === 0) fs.rmdirSync(file);
      continue;
    }
    const rel = path.relative(dist, file);
    const base = rel.replace(/\.(d\.ts|js\.map|js)$/, '');
    if (base === rel) continue;
    if (!fs.existsSync(path.join(root, 'src', base + '.ts'))) fs.rmSync(file);
  }
}

prune(dist);
