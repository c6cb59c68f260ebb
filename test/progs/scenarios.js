#!/usr/bin/env node
// The workload of the kernel tests: runs known process activity and writes a manifest
// (JSON, to the path in argv[2]) of the pids and argv each scenario produced, so the test
// can find its events in a system-wide recording and assert them field by field.
'use strict';
const {spawnSync, spawn} = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const execer = path.join(__dirname, 'execer.out');
const out = {driver: process.pid};

function run(name, args) {
  const r = spawnSync(execer, args, {encoding: 'utf8'});
  const kv = {};
  for (const line of (r.stdout || '').split('\n')) {
    const m = /^(\w+)=(-?\d+)$/.exec(line);
    if (m) kv[m[1]] = Number(m[2]);
  }
  out[name] = {pid: r.pid, argv: [execer, ...args], status: r.status, signal: r.signal, ...kv};
}

// Exact argv: empty strings, spaces, quotes, non-ASCII, newlines, a tab, a long one.
const odd = ['', 'two words', "it's", 'ünïcødé ✓', 'line1\nline2', 'tab\there', '-', '--flag=value', 'x'.repeat(3000)];
run('odd', ['exit', '0', ...odd]);
// Hundreds of arguments, below the default limit of 256 …
run('many', ['exit', '0', ...Array.from({length: 200}, (_, i) => `arg${i}`)]);
// … and above it: argv is cut at 256 entries, argc keeps 402.
run('toomany', ['exit', '0', ...Array.from({length: 400}, (_, i) => `a${i}`)]);
run('fail', ['fail', '/nonexistent/exectrace-test', 'x', 'y z']);
run('execveat', ['execveat', '/usr/bin', 'true', 'from-execveat', 'second arg']);
run('fork', ['fork', '7']);
run('exit42', ['exit', '42']);
run('thread', ['thread-exec', '/bin/echo', 'exec from a thread']);

// A process killed by SIGKILL while it runs.
const sleeper = spawn('/bin/sleep', ['30']);
out.killed = {pid: sleeper.pid, argv: ['/bin/sleep', '30']};
setTimeout(() => sleeper.kill('SIGKILL'), 200);
sleeper.on('exit', (code, signal) => {
  out.killed.signal = signal;
  fs.writeFileSync(process.argv[2], JSON.stringify(out, null, 1));
});
