#!/usr/bin/env node
// npm's install step: builds the native addon (the BPF loader and ring-buffer drain that
// `record` needs) with node-gyp when libbpf's development files are there. Without them
// the package still installs: decode, filter, stats, verify and recover need no addon, and
// record says what to install. Never fails the install.

'use strict';
const {spawnSync} = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const note = (line) => process.stderr.write(`exectrace: ${line}\n`);

function main() {
  if (process.platform !== 'linux') {
    note(`no native addon on ${process.platform}: record needs Linux; the offline commands work`);
    return;
  }
  if (spawnSync('pkg-config', ['--exists', 'libbpf']).status !== 0) {
    note('libbpf-dev is not installed, so record cannot work yet (the offline commands do): ' +
      'install it (apt-get install libbpf-dev pkg-config), then run: npm rebuild -g exectrace');
    return;
  }
  // npm hands its own node-gyp to install scripts; a local one (a development checkout) also does.
  let gyp = process.env.npm_config_node_gyp;
  if (!gyp) {
    try {
      gyp = require.resolve('node-gyp/bin/node-gyp.js', {paths: [root]});
    } catch {
      note('node-gyp not found: cannot build the native addon (record will say so); the offline commands work');
      return;
    }
  }
  const r = spawnSync(process.execPath, [gyp, 'rebuild'], {cwd: root, stdio: 'inherit'});
  if (r.status !== 0) {
    note('building the native addon failed (see above): record will not work until `npm rebuild -g exectrace` succeeds; ' +
      'the offline commands work');
  }
}

main();
