// decode --format csv|tsv and --fields (src/decode/table.ts), offline: a CSV that Python's
// csv module (nobody here wrote it) reads back to the values decode --json gives, argv
// split back by shlex to the exact arguments, RFC 4180 quoting, TSV escapes, --fields with
// --json, and one-line errors.

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {spawnSync} from 'node:child_process';
import {cli, lines} from './lib/cli';
import {Synth} from './lib/synth';
import {cellText} from '../src/decode/table';

const TREE = 'fixtures/exec-tree.bin';
const CAT = 'fixtures/syscalls-cat.bin';

/** Rows of a CSV as Python's csv module reads them, and each argv cell split by shlex. */
function python(csvText: string): {rows: Record<string, string>[]; argv: (string[] | null)[]} {
  const src = `
import csv, io, json, shlex, sys
rows = list(csv.DictReader(io.StringIO(sys.stdin.read(), newline='')))
print(json.dumps({"rows": rows, "argv": [shlex.split(r["argv"]) if r.get("argv") else None for r in rows]}))
`;
  const r = spawnSync('python3', ['-c', src], {input: csvText, encoding: 'utf8'});
  if (r.status !== 0) throw new Error(`python3: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** The words bash makes of a command line ($'…' included), each as latin1 text of its bytes. */
function bashSplit(line: string): string[] {
  const r = spawnSync('bash', ['-c', 'eval "set -- $1"; printf "%s\\0" "$@"', '_', line]);
  if (r.status !== 0) throw new Error(`bash: ${r.stderr}`);
  return r.stdout.toString('latin1').split('\0').slice(0, -1);
}

t.test('csv: a header, then one row per event that Python\'s csv module reads back to decode --json\'s values', async (t) => {
  const csv = await cli(['decode', TREE, '--format', 'csv', '--no-processes']);
  t.equal(csv.status, 0, csv.stderr);
  t.ok(csv.stdout.endsWith('\r\n') && !/[^\r]\n/.test(csv.stdout), 'CRLF line ends (RFC 4180)');
  const json = lines((await cli(['decode', TREE, '--json', '--no-processes'])).stdout).map((l) => JSON.parse(l));
  const {rows, argv} = python(csv.stdout);
  t.equal(rows.length, json.length, 'one row per event');
  t.same(Object.keys(rows[0]), ['time', 'type', 'pid', 'ppid', 'uid', 'comm', 'exec_id', 'filename', 'argv', 'exit_code', 'signal', 'syscall', 'ret', 'errno']);
  rows.forEach((r, i) => {
    const e = json[i];
    t.same([r.time, r.type, r.pid, r.comm, r.exec_id, r.filename], [e.time, e.type, String(e.pid), e.comm, e.exec_id, e.filename ?? '']);
    t.same(argv[i], e.argv ?? null, `argv of ${e.type} ${e.pid} split back to its exact arguments`);
    t.equal(r.exit_code, e.exit_code === undefined ? '' : String(e.exit_code));
  });
  const chained = rows.findIndex((r) => r.argv === "sh -c 'exec env /bin/true chained'");
  t.ok(chained >= 0, 'a command line as human lines show it');
});

t.test('csv: RFC 4180 quoting of commas, quotes, line ends and edge spaces; bytes that are not UTF-8 as \\xNN', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-csv-'));
  t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));
  const s = new Synth(TREE);
  const f = path.join(dir, 'odd.bin');
  const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9]);
  s.write(f, [[
    s.exec(s.at(1), 700, 1, ['/bin/echo', 'a,b', 'say "hi"', 'two\nlines', ' edge '], '/bin/echo'),
    s.exec(s.at(2), 701, 1, ['/usr/bin/touch', latin1], '/usr/bin/touch'),
  ]]);
  const out = (await cli(['decode', f, '--format', 'csv', '--no-processes', '--fields', 'pid,argv,argv[1]'])).stdout;
  t.equal(out, 'pid,argv,argv[1]\r\n' +
    `700,"/bin/echo a,b 'say ""hi""' $'two\\nlines' ' edge '","a,b"\r\n` +
    "701,/usr/bin/touch $'caf\\xe9',caf\\xe9\r\n");
  const {rows} = python(out);
  t.same(bashSplit(rows[0].argv), ['/bin/echo', 'a,b', 'say "hi"', 'two\nlines', ' edge '], 'bash splits the cell back to the exact arguments');
  t.same(bashSplit(rows[1].argv), ['/usr/bin/touch', 'caf\xe9'], 'and gives back the bytes of one that is not UTF-8 (as latin1 here)');
  const tsv = (await cli(['decode', f, '--format', 'tsv', '--no-processes', '--fields', 'pid,argv[3]'])).stdout;
  t.equal(tsv, 'pid\targv[3]\n700\ttwo\\nlines\n701\t\n', 'TSV: \\n for a line end, nothing quoted, a missing field empty');
});

t.test('cells: numbers exact, booleans, null and missing empty, objects as compact JSON', async (t) => {
  t.equal(cellText(2n ** 64n - 1n), '18446744073709551615');
  t.equal(cellText(-100), '-100');
  t.equal(cellText(true), 'true');
  t.equal(cellText(null), '');
  t.equal(cellText(undefined), '');
  t.equal(cellText({pid: 1, mnt: 2}), '{"pid":1,"mnt":2}');
  t.equal(cellText({text: 'hello', len: 5, truncated: false}), 'hello', 'a captured buffer: its text');
  t.equal(cellText({base64: Buffer.from([0x61, 0xff]).toString('base64')}), 'a\\xff');
});

t.test('--fields with --json: only those keys, nested as in the event', async (t) => {
  const r = await cli(['decode', CAT, '--json', '--syscall', 'openat', '--fields', 'pid,syscall,args.filename,sym.flags']);
  const first = JSON.parse(lines(r.stdout)[0]);
  t.same(first, {pid: 1677, syscall: 'openat', args: {filename: '/proc/1678/status'}, sym: {flags: 'O_RDONLY'}});
  const ev = JSON.parse(lines((await cli(['decode', TREE, '--json', '--type', 'exec', '--fields', 'pid,argv[0],nope'])).stdout)[0]);
  t.same(ev, {pid: 18170, argv: ['sh']}, 'an element by index; a field the event lacks left out');
});

t.test('one-line errors, exit 2', async (t) => {
  const cases: [string[], string][] = [
    [['decode', CAT, '--fields', 'pid'], 'exectrace decode: --fields goes with --format csv, tsv or json\n'],
    [['decode', CAT, '--format', 'csv', '--fields', 'a..b'], 'exectrace decode: --fields: "a..b" is not a field path (examples: pid, args.filename, argv[0])\n'],
    [['decode', CAT, '--json', '--format', 'csv'], 'exectrace decode: --json and --format csv: give one of them\n'],
  ];
  for (const [args, stderr] of cases) {
    const r = await cli(args);
    t.equal(r.status, 2, args.join(' '));
    t.equal(r.stderr, stderr);
    t.equal(r.stdout, '');
  }
});
