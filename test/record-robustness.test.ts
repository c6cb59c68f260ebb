// Kernel tests of a recording's worst days: the recorder SIGKILLed (everything flushed
// before the kill decodes; recover makes a clean file of it), the disk filling up (a clear
// one-line message, a non-zero exit, a file valid up to its last complete chunk), and an
// attach that fails halfway. After each, nothing of ours stays loaded in the kernel: the
// program, map and link ids the recorder held are checked against bpftool.

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {spawn, spawnSync, ChildProcess} from 'node:child_process';
import {BIN, ROOT, kernelTest} from './lib/kernel';
import {BpfIds, NONE, bpfIdsOf, stillLoaded} from './lib/bpf';

function cli(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], {encoding: 'utf8', maxBuffer: 256 << 20});
}

const lines = (s: string) => s.split('\n').filter((l) => l !== '');

/** Starts `record`; resolves once it says it is recording, with the BPF ids it holds then. */
async function startRecord(args: string[]): Promise<{p: ChildProcess; ids: BpfIds; stderr: () => string; exited: Promise<number | null>}> {
  const p = spawn(process.execPath, [BIN, 'record', ...args], {stdio: ['ignore', 'ignore', 'pipe']});
  let stderr = '';
  p.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => p.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const iv = setInterval(() => {
      if (stderr.includes('recording to')) {
        clearInterval(iv);
        resolve();
      }
    }, 20);
    void exited.then(() => {
      clearInterval(iv);
      reject(new Error(`record exited early: ${stderr}`));
    });
  });
  return {p, ids: bpfIdsOf(p.pid!), stderr: () => stderr, exited};
}

function compileAttachFault(dir: string): string {
  const out = path.join(dir, 'attach_fault.bpf.o');
  const args = ['-O2', '-g', '-target', 'bpf', '-D__TARGET_ARCH_x86', '-I', path.join(ROOT, 'bpf'),
    '-I', `/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`,
    '-c', path.join(ROOT, 'test/progs/attach_fault.bpf.c'), '-o', out];
  const r = spawnSync('clang', args, {encoding: 'utf8'});
  if (r.error || r.status !== 0) throw new Error(`clang ${args.join(' ')}: ${r.error?.message ?? r.stderr.trim()}`);
  return out;
}

kernelTest(t, 'kernel: a SIGKILLed recorder leaves a file that decodes up to its last flush, and nothing loaded', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'killed.bin');
  const r = await startRecord(['-o', file]);
  t.ok(r.ids.prog.length >= 7 && r.ids.map.length >= 2 && r.ids.link.length >= 7,
    `the recorder holds its programs, maps and links (${r.ids.prog.length}, ${r.ids.map.length}, ${r.ids.link.length})`);
  for (let i = 0; i < 5; i++) spawnSync('/bin/true', ['before-the-kill', String(i)]);
  await new Promise((res) => setTimeout(res, 1600)); // more than the 1 s flush interval
  r.p.kill('SIGKILL');
  await r.exited;
  t.same(await stillLoaded(r.ids), NONE, 'the kernel freed every program, map and link of the killed recorder');

  const dec = cli(['decode', file, '--json', '--no-processes']);
  t.equal(dec.status, 3, 'decode exits 3: the file has no trailer');
  const marked = lines(dec.stdout).map((l) => JSON.parse(l)).filter((e) => e.type === 'exec' && e.argv?.[1] === 'before-the-kill');
  t.same(marked.map((e) => e.argv[2]), ['0', '1', '2', '3', '4'], 'every exec made before the last flush is in the file');
  const warn = lines(dec.stderr);
  t.equal(warn.length, 1, dec.stderr);
  // Killed inside a chunk's write: the cut chunk is reported with the records it still gave (spec §8.2.1).
  t.ok(warn[0] === `exectrace: ${file}: no trailer: the recording did not end cleanly (everything up to the last chunk was decoded)` ||
    warn[0].startsWith(`exectrace: ${file}: file ends at offset `) ||
    new RegExp(`^exectrace: ${file}: chunk seq \\d+ at offset \\d+ cut at offset \\d+ .*: \\d+ of \\d+ records recovered$`).test(warn[0]), warn[0]);

  const ver = cli(['verify', file, '--json']);
  t.equal(ver.status, 3);
  const kinds = JSON.parse(ver.stdout).findings.map((f: {kind: string}) => f.kind);
  t.ok(kinds.length === 1 && ['trailer-missing', 'truncated'].includes(kinds[0]), `verify: ${kinds}`);

  const fixed = path.join(dir, 'fixed.bin');
  const rec = cli(['recover', file, '-o', fixed]);
  t.equal(rec.status, 0, rec.stderr);
  t.match(rec.stdout, new RegExp(`^${fixed}: \\d+ chunks? \\(\\d+ records\\) recovered from ${file} \\(1 problem\\); trailer rebuilt from the records`));
  const ver2 = cli(['verify', fixed]);
  t.equal(ver2.status, 0, ver2.stdout);
  t.match(ver2.stdout, new RegExp(`^${fixed}: intact\\n`));
  const dec2 = cli(['decode', fixed, '--json', '--no-processes']);
  t.equal(dec2.status, 0);
  t.same(lines(dec2.stdout), lines(dec.stdout), 'the recovered file holds the same events');
});

kernelTest(t, 'kernel: SIGKILL while a recorded command runs: the surviving command holds nothing of ours', async (t) => {
  const dir = t.testdir();
  const r = await startRecord(['-o', path.join(dir, 'cmd.bin'), '--', 'sleep', '30']);
  const sleeper = spawnSync('pgrep', ['-P', String(r.p.pid), 'sleep'], {encoding: 'utf8'}).stdout.trim();
  t.teardown(() => {
    if (sleeper) spawnSync('kill', [sleeper]);
  });
  t.ok(sleeper, 'the command runs');
  t.same(bpfIdsOf(Number(sleeper)), NONE, 'the command inherited no BPF fd');
  r.p.kill('SIGKILL');
  await r.exited;
  t.ok(fs.existsSync(`/proc/${sleeper}`), 'the command outlives the recorder');
  t.same(await stillLoaded(r.ids), NONE, 'nothing of ours stays loaded');
});

kernelTest(t, 'kernel: disk full: one line, exit 1, a file valid up to its last complete chunk, nothing loaded', async (t) => {
  // Not under t.testdir(): tap removes that before teardowns run, and a mount point cannot go.
  const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-full-'));
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt], {encoding: 'utf8'});
  t.teardown(() => {
    spawnSync('umount', ['-l', mnt]);
    fs.rmSync(mnt, {recursive: true, force: true});
  });
  t.equal(m.status, 0, `mount a 256 KiB tmpfs: ${m.stderr}`);
  const file = path.join(mnt, 'full.bin');
  // Execs with 48 KiB of random (barely compressible) argv each: a few fill 256 KiB.
  const workload = `const {spawnSync} = require('child_process'); const {randomBytes} = require('crypto');
    for (let i = 0; i < 300; i++) spawnSync('/bin/true', ['fill-the-disk', String(i), randomBytes(36 * 1024).toString('base64')]);`;
  const r = await startRecord(['-o', file, '--chunk-size', '4K', '--max-arg-bytes', '128K', '--', process.execPath, '-e', workload]);
  const code = await r.exited;
  t.equal(code, 1, 'record exits 1');
  const err = lines(r.stderr());
  const last = err[err.length - 1];
  t.match(last, new RegExp(`^exectrace record: recording stopped: write ${file}: no space left on device \\(ENOSPC\\); ` +
    `${file} keeps its first \\d+ chunks \\(\\d+ records\\), without a trailer \\(exectrace recover can add one\\)$`));
  t.notOk(r.stderr().includes('    at '), 'no stack trace');
  t.same(await stillLoaded(r.ids), NONE, 'nothing of ours stays loaded after the write error');

  const [, chunks, records] = /keeps its first (\d+) chunks \((\d+) records\)/.exec(last) ?? [];
  t.ok(Number(chunks) >= 1, `${chunks} complete chunks were written before the disk filled`);
  const ver = cli(['verify', file, '--json']);
  t.equal(ver.status, 3);
  const v = JSON.parse(ver.stdout);
  t.same(v.findings.map((f: {kind: string}) => f.kind), ['trailer-missing'], 'the partial chunk was cut off: no truncated block');
  t.equal(v.records, Number(records));
  const dec = cli(['decode', file, '--json', '--no-processes']);
  t.equal(dec.status, 3);
  t.equal(dec.stderr, `exectrace: ${file}: no trailer: the recording did not end cleanly (everything up to the last chunk was decoded)\n`);
  const fills = lines(dec.stdout).map((l) => JSON.parse(l)).filter((e) => e.type === 'exec' && e.argv?.[1] === 'fill-the-disk');
  t.ok(fills.length >= 1, `${fills.length} of the workload's execs are in the file`);
  t.equal(fills[0]?.argv?.[3]?.length, 49152, 'with their whole argv');
});

kernelTest(t, 'kernel: an attach that fails halfway: one line, no file, nothing loaded', async (t) => {
  const dir = t.testdir();
  const obj = compileAttachFault(dir);
  const file = path.join(dir, 'never.bin');
  const r = cli(['record', '-o', file, '--object', obj, '--duration', '1s']);
  t.equal(r.status, 1);
  t.equal(r.stderr, 'exectrace record: attach et_test_noattach: No such file or directory\n');
  t.notOk(fs.existsSync(file), 'no trace file is left behind');

  // In-process, so the recorder's own cleanup is what is checked (not the kernel's at exit).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const {record} = require('../src/record') as typeof import('../src/record');
  const before = bpfIdsOf('self');
  await t.rejects(record({
    output: file, object: obj, durationMs: 1000, maxArgs: 256, maxArgBytes: 32768, ringBytes: 1 << 20,
    chunkBytes: 1 << 20, flushMs: 1000, level: 3,
  }), {message: /^attach et_test_noattach: No such file or directory/});
  t.same(bpfIdsOf('self'), before, 'the recorder closed every BPF fd it opened');
  t.notOk(fs.existsSync(file));
});
