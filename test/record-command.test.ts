// Kernel tests that the command after `--` runs exactly as given: test/progs/argdump.c
// writes the argv it received, which must equal, byte for byte, what the test asked
// record to run and the argv of the exec event in the recording — repeated arguments,
// a later `--`, record's own flags, empty strings, spaces, newlines, bytes that are not
// UTF-8. The command line is built by bash from $'\xNN' escapes, since a Node string
// cannot carry bytes that are not UTF-8.

import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {spawnSync} from 'node:child_process';
import {BIN, ROOT, kernelTest} from './lib/kernel';

const PROG = path.join(ROOT, 'test', 'progs', 'argdump.out');

/** A bash word for the bytes: $'\xNN...' (the empty string is $''). */
function word(b: Buffer): string {
  return `$'${[...b].map((c) => `\\x${c.toString(16).padStart(2, '0')}`).join('')}'`;
}

function run(recordArgs: string[], program: string, args: Buffer[], env: NodeJS.ProcessEnv = process.env) {
  const line = ['exec', process.execPath, BIN, 'record', ...recordArgs.map((a) => word(Buffer.from(a))), '--', word(Buffer.from(program)),
    ...args.map(word)].join(' ');
  return spawnSync('bash', ['-c', line], {env, maxBuffer: 64 << 20});
}

function splitNul(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0) {
      out.push(b.subarray(from, i));
      from = i + 1;
    }
  }
  return out;
}

/** An argv element of the JSON event model: a string, or {base64} for bytes that are not UTF-8. */
function bytesOf(v: unknown): Buffer {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (v && typeof v === 'object' && typeof (v as {base64?: unknown}).base64 === 'string') return Buffer.from((v as {base64: string}).base64, 'base64');
  throw new Error(`argv element is neither a string nor {base64}: ${JSON.stringify(v)}`);
}

const B = (s: string) => Buffer.from(s, 'utf8');
const CASES: [string, Buffer[]][] = [
  ['repeated arguments and a later --', ['a', 'b', 'a', 'c', '--', 'x'].map(B)],
  ['repeated options (grep -e root -e daemon FILE)', ['-e', 'root', '-e', 'daemon', '/etc/passwd'].map(B)],
  ["record's own flags (-o foo)", ['-o', 'foo'].map(B)],
  ['gzip -c FILE', ['-c', 'FILE'].map(B)],
  ["record's flags, long and short", ['--syscalls', '--duration', '1s', '--force', '-f', '--stdout', '--json', '--follow'].map(B)],
  ['help and version flags', ['--help', '-h', '--version', 'help'].map(B)],
  ['only --', ['--', '--', '--'].map(B)],
  ['an empty string', [B('')]],
  ['empty strings around others', ['', '', 'x', ''].map(B)],
  ['spaces', ['sp ace', '  lead', 'trail  ', ' '].map(B)],
  ['newlines and tabs', ['nl\nx', 'tab\tx', '\n'].map(B)],
  ['quotes, backslashes and shell characters', ["'", '"', '\\', '$HOME', '*', '`id`', ';', '|'].map(B)],
  ['UTF-8 text', ['ünï', '日本', '😀'].map(B)],
  ['bytes that are not UTF-8', [Buffer.from([0xff, 0xfe]), Buffer.from([0x63, 0x61, 0x66, 0xc3, 0x28]), Buffer.from([0x80])]],
  ['no arguments', []],
  ['a long argument', [B('x'.repeat(20000))]],
];

kernelTest(t, 'kernel: the command after -- reaches the program byte for byte, and the exec event records it', async (t) => {
  const dir = t.testdir();
  let n = 0;
  for (const [name, args] of CASES) {
    const trace = path.join(dir, `c${n++}.bin`);
    const r = run(['-o', trace], PROG, args);
    t.equal(r.status, 0, `${name}: record exits as the program did: ${r.stderr.toString().trim().split('\n').pop()}`);
    const received = splitNul(r.stdout);
    const expected = [B(PROG), ...args];
    t.same(received.map((b) => b.toString('hex')), expected.map((b) => b.toString('hex')), `${name}: the program received exactly the argv given`);
    const dec = spawnSync(process.execPath, [BIN, 'decode', trace, '--json', '--no-processes'], {encoding: 'utf8', maxBuffer: 64 << 20});
    t.equal(dec.status, 0, dec.stderr);
    const execs = dec.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'exec' && e.comm === 'argdump.out');
    t.equal(execs.length, 1, `${name}: one exec of the program`);
    if (execs.length === 1) {
      t.same((execs[0].argv as unknown[]).map((a) => bytesOf(a).toString('hex')), expected.map((b) => b.toString('hex')),
        `${name}: the exec event's argv is what ran`);
      t.equal(execs[0].argc, expected.length, `${name}: argc`);
    }
  }
});

kernelTest(t, 'kernel: a command found on PATH runs under the name given as argv[0]', async (t) => {
  const dir = t.testdir();
  fs.copyFileSync(PROG, path.join(dir, 'argdump-on-path'));
  fs.chmodSync(path.join(dir, 'argdump-on-path'), 0o755);
  const trace = path.join(dir, 'p.bin');
  const r = run(['-o', trace], 'argdump-on-path', [B('-o'), B('x')], {...process.env, PATH: `${dir}:${process.env.PATH}`});
  t.equal(r.status, 0, r.stderr.toString());
  t.same(splitNul(r.stdout).map(String), ['argdump-on-path', '-o', 'x']);
  const dec = spawnSync(process.execPath, [BIN, 'decode', trace, '--json', '--no-processes'], {encoding: 'utf8'});
  const exec = dec.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.type === 'exec' && e.comm === 'argdump-on-path');
  t.equal(exec?.filename, path.join(dir, 'argdump-on-path'), 'the program PATH found');
  t.same(exec?.argv, ['argdump-on-path', '-o', 'x']);
  t.notOk(dec.stdout.includes('"exec_failed"'), 'no failed exec per PATH entry');
});

kernelTest(t, 'kernel: an argument before --, or nothing after it, is a usage error; a command not found is 127; nothing is recorded', async (t) => {
  const dir = t.testdir();
  const trace = path.join(dir, 'u.bin');
  const r = spawnSync(process.execPath, [BIN, 'record', '-o', trace, 'ls', '/tmp'], {encoding: 'utf8'});
  t.equal(r.status, 2);
  t.match(r.stderr, /unexpected argument "ls": the command to record goes after --/);
  t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  t.notOk(fs.existsSync(trace));
  const empty = spawnSync(process.execPath, [BIN, 'record', '-o', trace, '--'], {encoding: 'utf8'});
  t.equal(empty.status, 2, 'nothing after --');
  t.equal(empty.stderr, 'exectrace record: nothing after --: give the command to record, or leave out -- to record until Ctrl+C\n');
  const missing = spawnSync(process.execPath, [BIN, 'record', '-o', trace, '--', 'exectrace-no-such-command'], {encoding: 'utf8'});
  t.equal(missing.status, 127, 'a command not on PATH: 127, as a shell says');
  t.equal(missing.stderr, 'exectrace record: command not found: exectrace-no-such-command\n');
  t.notOk(fs.existsSync(trace));
});
