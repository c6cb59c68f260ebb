// The package as a user installs it: `npm pack`, then `npm install -g` of the packed file
// into a temporary prefix. First as on a machine without libbpf-dev (pkg-config does not
// find libbpf): the install succeeds, the offline commands work and record names the
// packages to install; then `npm rebuild -g exectrace`, as record says, builds the addon,
// and from another directory record works, and its file decodes with the CLI and with the
// library, whose installed types a strict TypeScript program is checked against.

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {spawnSync, type SpawnSyncOptions} from 'node:child_process';
import {ROOT, kernelTest} from './lib/kernel';

function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}) {
  const r = spawnSync(cmd, args, {encoding: 'utf8', maxBuffer: 64 << 20, timeout: 600_000, ...opts});
  return {status: r.status, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '')};
}

kernelTest(t, 'kernel: npm install -g of the packed package: offline without libbpf, record after npm rebuild, the library and its types', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-pkg-'));
  t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));
  const prefix = path.join(dir, 'prefix');
  const installed = path.join(prefix, 'lib', 'node_modules', 'exectrace');
  const bin = path.join(prefix, 'bin', 'exectrace');
  // dist/ is built already (make test builds it): pack it as it is.
  const pack = run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], {cwd: ROOT});
  t.equal(pack.status, 0, pack.stderr);
  const tgz = path.join(dir, pack.stdout.trim().split('\n').pop() as string);
  t.ok(fs.existsSync(tgz), `packed ${path.basename(tgz)}`);

  // A pkg-config that knows no libbpf: what a machine without libbpf-dev answers.
  const shim = path.join(dir, 'shim');
  fs.mkdirSync(shim);
  fs.writeFileSync(path.join(shim, 'pkg-config'), '#!/bin/sh\nfor a in "$@"; do [ "$a" = libbpf ] && exit 1; done\nexec /usr/bin/pkg-config "$@"\n', {mode: 0o755});
  const noLibbpf = {...process.env, PATH: `${shim}:${process.env.PATH}`};
  // --foreground-scripts: npm shows what install scripts print only when asked (or when they fail).
  const install = run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--foreground-scripts', tgz], {cwd: dir, env: noLibbpf});
  t.equal(install.status, 0, `npm install -g succeeds without libbpf: ${install.stderr.slice(-2000)}`);
  t.match(install.stderr + install.stdout, /libbpf-dev is not installed, so record cannot work yet \(the offline commands do\)/);
  t.notOk(fs.existsSync(path.join(installed, 'build', 'Release', 'exectrace_native.node')), 'no addon built');

  const offline = run(bin, ['decode', path.join(ROOT, 'fixtures', 'exec-scenarios.bin'), '--no-processes'], {cwd: dir});
  t.equal(offline.status, 0, offline.stderr);
  t.match(offline.stdout, /exec .*execer\.out/, 'decode works without the addon');
  const noAddon = run(bin, ['record', '-o', path.join(dir, 'x.bin'), '--', 'true'], {cwd: dir});
  t.equal(noAddon.status, 1);
  t.match(noAddon.stderr, /^exectrace record: the native addon that record needs is not built \(.*\): install libbpf-dev and pkg-config \(apt-get install libbpf-dev pkg-config\), then run `npm rebuild -g exectrace`\n$/);
  t.notOk(fs.existsSync(path.join(dir, 'x.bin')), 'nothing left behind');

  const rebuild = run('npm', ['rebuild', '-g', '--prefix', prefix, 'exectrace'], {cwd: dir});
  t.equal(rebuild.status, 0, rebuild.stderr);
  t.ok(fs.existsSync(path.join(installed, 'build', 'Release', 'exectrace_native.node')), 'npm rebuild built the addon');

  const trace = path.join(dir, 't.bin');
  const rec = run(bin, ['record', '--follow', '-o', trace, '--', '/bin/echo', 'from the package', '--', '-o'], {cwd: dir});
  t.equal(rec.status, 0, rec.stderr);
  t.equal(rec.stdout, 'from the package -- -o\n');
  const dec = run(bin, ['decode', trace, '--json', '--no-processes'], {cwd: dir});
  t.equal(dec.status, 0, dec.stderr);
  const exec = dec.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.type === 'exec');
  t.same(exec?.argv, ['/bin/echo', 'from the package', '--', '-o'], 'the CLI decodes what ran');

  // The library, from a project of its own that has the installed package as a dependency.
  const app = path.join(dir, 'app');
  fs.mkdirSync(path.join(app, 'node_modules'), {recursive: true});
  fs.symlinkSync(installed, path.join(app, 'node_modules', 'exectrace'));
  fs.writeFileSync(path.join(app, 'read.js'), `const {openTrace} = require('exectrace');
(async () => {
  for await (const ev of openTrace(${JSON.stringify(trace)}, {type: ['exec']})) console.log(JSON.stringify(ev.argv));
})();
`);
  const lib = run(process.execPath, [path.join(app, 'read.js')], {cwd: app});
  t.equal(lib.status, 0, lib.stderr);
  t.equal(lib.stdout, '["/bin/echo","from the package","--","-o"]\n', 'the library decodes it too');

  fs.writeFileSync(path.join(app, 'check.ts'), `import {openTrace, record, type ExitEvent, type TraceEvent} from 'exectrace';
const exits: ExitEvent[] = [];
for (const ev of openTrace('t.bin', {where: 'comm == "echo"'})) if (ev.type === 'exit') exits.push(ev);
const code: number = exits[0].exit_code;
const all: TraceEvent[] = [...openTrace('t.bin')];
async function again(): Promise<string> {
  return (await record({output: 'u.bin', command: ['/bin/true'], durationMs: 100})).endReason;
}
void again; void code; void all;
`);
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const check = run(process.execPath, [tsc, '--strict', '--noEmit', '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022',
    '--types', 'node', '--typeRoots', path.join(ROOT, 'node_modules', '@types'), path.join(app, 'check.ts')], {cwd: app});
  t.equal(check.status, 0, `tsc --strict against the installed types: ${check.stdout}${check.stderr}`);
});
