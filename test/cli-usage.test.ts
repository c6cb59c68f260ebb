// The command line as people expect it from the tools they know (issue 11): -h and
// `help COMMAND`, "did you mean" for a mistyped command, bad values that say why, and
// usage errors with exit status 2. Runs the built CLI (dist/) on the committed fixtures.

import t, {type Test} from 'tap';
import {cli, type Run} from './lib/cli';

const EXEC = 'fixtures/exec-scenarios.bin';

/** A usage error: one line on stderr, nothing on stdout, status 2. */
function usage(t: Test, r: Run, want: RegExp): void {
  t.equal(r.status, 2, 'exit status 2');
  t.equal(r.stdout, '', 'nothing on stdout');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  t.equal(lines.length, 1, `one line: ${r.stderr}`);
  t.match(lines[0] ?? '', want);
  t.notMatch(r.stderr, /\bat .*\.js:\d+/, 'no stack trace');
}

t.test('-h is --help, for every command and at the top', async (t) => {
  for (const cmd of ['decode', 'tree', 'filter', 'stats', 'verify', 'recover', 'record']) {
    const long = await cli([cmd, '--help']);
    const short = await cli([cmd, '-h']);
    t.equal(short.status, 0, `${cmd} -h succeeds`);
    t.equal(short.stdout, long.stdout, `${cmd} -h prints what --help prints`);
    t.match(short.stdout, new RegExp(`\\$ exectrace ${cmd}`));
  }
  const top = await cli(['-h']);
  t.equal(top.status, 0);
  t.equal(top.stdout, (await cli(['--help'])).stdout);
});

t.test('help COMMAND', async (t) => {
  const r = await cli(['help', 'decode']);
  t.equal(r.status, 0);
  t.equal(r.stdout, (await cli(['decode', '--help'])).stdout, 'the same as decode --help');
  const top = await cli(['help']);
  t.equal(top.status, 0);
  t.match(top.stdout, /COMMANDS[\s\S]*decode/);
  usage(t, await cli(['help', 'decdoe']), /^exectrace: unknown command 'decdoe': did you mean decode\?$/);
});

t.test('a mistyped command: did you mean', async (t) => {
  usage(t, await cli(['decod', EXEC]), /^exectrace: unknown command 'decod': did you mean decode\?$/);
  usage(t, await cli(['stast']), /did you mean stats\?$/);
  usage(t, await cli(['fliter', '--json', EXEC]), /did you mean filter\?$/);
  usage(t, await cli(['frobnicate']), /^exectrace: unknown command 'frobnicate' \(commands: decode, export, filter, .*\)$/);
});

t.test('a bad flag value says why, in one line, with status 2', async (t) => {
  usage(t, await cli(['decode', '--pid', 'abc', EXEC]), /^exectrace decode: --pid: expected an integer, got "abc" \(see exectrace decode --help\)$/);
  usage(t, await cli(['stats', '--tree', '-4', EXEC]), /^exectrace stats: --tree: expected an integer of at least 0, got "-4"/);
  usage(t, await cli(['filter', '--json', '--pid', '1x', EXEC]), /^exectrace filter: --pid: expected an integer, got "1x"/);
  usage(t, await cli(['decode', '--type', 'exce', EXEC]), /^exectrace decode: --type: expected one of exec, .*, got "exce"/);
  usage(t, await cli(['decode', '--uid', 'no-such-user-here', EXEC]), /^exectrace decode: --uid: no user "no-such-user-here" in \/etc\/passwd: give a uid number or a user name/);
  usage(t, await cli(['record', '--max-args', 'many']), /^exectrace record: --max-args: expected an integer, got "many"/);
});

t.test('usage errors exit 2 everywhere', async (t) => {
  usage(t, await cli(['decode']), /^exectrace decode: missing argument FILE \(trace file written by `exectrace record` \(several: merged in time order; - for standard input\)\)/);
  usage(t, await cli(['stats', '--bogus', EXEC]), /^exectrace stats: unknown flag --bogus/);
  usage(t, await cli(['verify', EXEC, 'extra']), /^exectrace verify: extra: no such file$/);
  usage(t, await cli(['verify', 'fixtures/no-such-*.bin']), /^exectrace verify: fixtures\/no-such-\*\.bin: no file matches$/);
  usage(t, await cli(['decode', '--since', '25:00', EXEC]), /^exectrace decode: --since: 25:00 is not a valid time of day$/);
  usage(t, await cli(['stats', '--where', 'pid ==', EXEC]), /^exectrace stats: --where: expected a value at column/);
  usage(t, await cli(['filter', '--json', '--syscall', 'opneat', 'fixtures/syscalls-cat.bin']), /--syscall: "opneat" is not a syscall this file knows/);
  usage(t, await cli(['filter', EXEC]), /give -o FILE/);
  // Rotation: what cannot be rotated, and what goes with it.
  usage(t, await cli(['record', '--stats-only', '--rotate-size', '1M']), /^exectrace record: --stats-only and rotation: stats-only writes no file to rotate/);
  usage(t, await cli(['record', '--rotate-size', '1M', '-o', '-']), /^exectrace record: -o -: standard output is one stream and cannot be rotated/);
  usage(t, await cli(['record', '--rotate-time', '1h', '--stdout']), /^exectrace record: --rotate-size and --rotate-time write a series of files: give -o DIR\/NAME.bin$/);
  usage(t, await cli(['record', '--max-files', '3', '-o', 't.bin']), /^exectrace record: --max-files goes with --rotate-size or --rotate-time$/);
  usage(t, await cli(['record', '--rotate-size', '1M', '--force', '-o', 't.bin']), /^exectrace record: --force does not go with rotation/);
  usage(t, await cli(['record', '--rotate-size', '1X', '-o', 't.bin']), /^exectrace record: --rotate-size: cannot read size "1X"/);
  usage(t, await cli(['record', '--rotate-time', '500ms', '-o', 't.bin']), /^exectrace record: --rotate-time must be at least 1s/);
});

t.test('--uid takes a user name, as record --uid does', async (t) => {
  // root is uid 0 wherever /etc/passwd exists; the fixture's processes ran as root.
  for (const cmd of [['decode'], ['filter', '--json'], ['stats', '--json']]) {
    const byName = await cli([...cmd, '--uid', 'root', EXEC]);
    const byNumber = await cli([...cmd, '--uid', '0', EXEC]);
    t.equal(byName.status, 0, `${cmd[0]} --uid root`);
    t.equal(byName.stdout.replace(/--uid root/g, '--uid 0'), byNumber.stdout, `${cmd[0]}: --uid root is --uid 0`);
    t.ok(byName.stdout.length > 0);
  }
});
