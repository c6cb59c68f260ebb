// Strings that are not UTF-8 (issue 11): exec argv and filenames, and string syscall
// arguments, keep their exact bytes in JSON ({"base64": ...} in place of the string) and
// show each invalid byte as \xNN in human output, never as U+FFFD.

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {forEachEvent, humanLine, openTrace, shellQuote} from '../src/decode';
import {cString} from '../src/decode/human';
import {decodeText, displayText, isRawText} from '../src/decode/text';
import {collectStats, formatStats, StatsCollector} from '../src/stats';
import {toJson} from '../src/util/json';
import {cli, lines} from './lib/cli';
import {Synth} from './lib/synth';

const EXEC = path.resolve(__dirname, '..', 'fixtures', 'exec-scenarios.bin');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exectrace-text-'));
t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));

// 0xff and 0xfe never occur in UTF-8; e2 28 a1 starts a three-byte sequence and breaks it;
// c3 a9 is a valid é between them, which stays a character.
const BAD = Buffer.from([0x61, 0xff, 0xfe, 0x62]);
const BROKEN = Buffer.from([0xe2, 0x28, 0xa1, 0xc3, 0xa9]);
const PROG = Buffer.concat([Buffer.from('/tmp/pr'), Buffer.from([0xf6]), Buffer.from('g')]);

function file(): string {
  const s = new Synth(EXEC);
  const f = path.join(dir, 'bytes.bin');
  s.write(f, [[
    s.fork(s.at(1), 700, 1, 'sh'),
    s.exec(s.at(2), 700, 1, [PROG, BAD, BROKEN, 'plain'], PROG),
    s.exit(s.at(3), 700, 1, 'prog'),
  ]]);
  return f;
}

t.test('decodeText: UTF-8 stays a string, anything else becomes its bytes', async (t) => {
  t.equal(decodeText(Buffer.from('café'), 0, 5), 'café');
  t.strictSame(decodeText(BAD, 0, 4), {base64: BAD.toString('base64')});
  t.equal(displayText(decodeText(BAD, 0, 4)), 'a\\xff\\xfeb');
  t.equal(displayText(decodeText(BROKEN, 0, BROKEN.length)), '\\xe2(\\xa1é', 'the valid é survives the broken sequence before it');
  t.equal(shellQuote({base64: BAD.toString('base64')}), "$'a\\xff\\xfeb'", "bash's $'' form writes the bytes back");
  t.equal(shellQuote({base64: Buffer.from("it's\\").toString('base64') + ''}), "$'it\\'s\\\\'");
  t.equal(cString({base64: Buffer.from([0x2f, 0xff, 0x0a, 0x22]).toString('base64')}), '"/\\xff\\n\\""');
  t.notOk(isRawText({base64: 'AA==', len: 1, truncated: false}), 'a captured buffer is not a string');
});

t.test('an exec whose argv and filename are not UTF-8: human and JSON', async (t) => {
  const f = file();
  const tr = openTrace(f);
  const events: Record<string, unknown>[] = [];
  const human: string[] = [];
  forEachEvent(tr, {processes: false}, (e) => {
    events.push(e);
    human.push(humanLine(e, tr.decoder.clock, tr.decoder));
  });
  tr.reader.close();
  const exec = events.find((e) => e.type === 'exec') as Record<string, unknown>;
  const raw = (b: Buffer) => ({base64: b.toString('base64')});
  t.strictSame(exec.argv, [raw(PROG), raw(BAD), raw(BROKEN), 'plain']);
  t.strictSame(exec.filename, raw(PROG));
  const json = toJson(exec);
  t.notMatch(json, /\ufffd|\\ufffd/, 'never U+FFFD');
  t.match(json, `"argv":[{"base64":"${PROG.toString('base64')}"},{"base64":"${BAD.toString('base64')}"},{"base64":"${BROKEN.toString('base64')}"},"plain"]`);
  const back = JSON.parse(json).argv.map((a: unknown) => (typeof a === 'string' ? Buffer.from(a) : Buffer.from((a as {base64: string}).base64, 'base64')));
  t.strictSame(back, [PROG, BAD, BROKEN, Buffer.from('plain')], 'the exact bytes come back');
  const line = human.find((l) => / exec /.test(l)) as string;
  t.match(line, / \$'\/tmp\/pr\\xf6g' \$'a\\xff\\xfeb' \$'\\xe2\(\\xa1é' plain$/, 'argv: \\xNN in $\'\' quotes, argv[0] is the filename so it is not repeated');
  t.notMatch(human.join('\n'), /\ufffd/);
  t.match(human.find((l) => / exit /.test(l)), /\$'a\\xff\\xfeb'/, 'the exit carries the same command line');

  // The CLI: the same, and --where matches the display form.
  const d = await cli(['decode', '--no-processes', f], {TZ: 'UTC'});
  t.equal(d.status, 0);
  t.match(d.stdout, /\$'a\\xff\\xfeb'/);
  const j = await cli(['decode', '--json', '--no-processes', '--where', 'argv =~ /a\\\\xff/', f]);
  t.equal(lines(j.stdout).length, 2, 'exec and exit match argv =~ /a\\\\xff/');
  t.match(j.stdout, `{"base64":"${BAD.toString('base64')}"}`);

  // stats lists the executable as human output shows it, and in JSON exactly.
  const st = new StatsCollector(openTrace(f).decoder.eventNames);
  const t2 = openTrace(f);
  collectStats(t2, st);
  t2.reader.close();
  const rep = st.report(null, null);
  t.strictSame(rep.top_executables, [{filename: raw(PROG), count: 1}]);
  t.match(formatStats(rep), /1 {2}\/tmp\/pr\\xf6g$/m);
});

t.test('a snapshot process whose command line was stored as bytes (msgpack bin)', async (t) => {
  const s = new Synth(EXEC);
  const procs = (s.meta.processes as unknown as Record<string, unknown>[]).slice(0, 1).map((p) => ({...p, pid: 9, filename: PROG, argv: [PROG, BAD, 'ok']}));
  const s2 = new Synth(EXEC, {processes: procs as never});
  const f = path.join(dir, 'snapshot.bin');
  s2.write(f, [[s2.fork(s2.at(1), 700, 1, 'sh')]]);
  const tr = openTrace(f);
  const p = tr.decoder.processEvents()[0];
  t.strictSame(p.argv, [{base64: PROG.toString('base64')}, {base64: BAD.toString('base64')}, 'ok']);
  t.match(humanLine(p, tr.decoder.clock, tr.decoder), / \$'\/tmp\/pr\\xf6g' \$'a\\xff\\xfeb' ok$/);
  tr.reader.close();
});
