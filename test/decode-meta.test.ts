// The decoder generates one reader per record type from the layouts in a file's metadata:
// hostile metadata must be refused with a one-line error (never run as code, never read
// outside a record), and hostile records must be counted, not crash the decode.

import t from 'tap';
import * as path from 'node:path';
import {Decoder} from '../src/decode';
import {TraceReader} from '../src/format';

const FIXTURE = path.resolve(__dirname, '..', 'fixtures', 'exec-scenarios.bin');
const reader = TraceReader.open(FIXTURE);
const base = JSON.parse(JSON.stringify(reader.meta, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)));
reader.close();

function withMeta(edit: (m: any) => void): any {
  const m = JSON.parse(JSON.stringify(base));
  edit(m);
  return m;
}

t.test('layouts come from the file', async (t) => {
  const d = new Decoder(base);
  t.same(d.eventNames.filter(Boolean), ['exec', 'exec_failed', 'fork', 'exit', 'lost']);
  const exec = base.record_types.find((r: any) => r.event === 'exec');
  t.equal(exec.layout.name, 'et_exec');
  t.same(exec.layout.tail, {offset: exec.layout.size}, 'the tail starts where the fixed part ends');
  t.same(exec.tail.map((s: any) => s.name), ['filename', 'interp', 'argv']);
});

t.test('a moved field moves the decoded value: nothing is hard-coded', async (t) => {
  // Swap the offsets of uid and gid in the fork layout: the decoded values swap too.
  const rec = Buffer.alloc(base.record_types.find((r: any) => r.event === 'fork').layout.size);
  const fork = base.record_types.find((r: any) => r.event === 'fork');
  const f = (name: string) => fork.layout.fields.find((x: any) => x.name === name);
  const typeF = base.record_header.fields.find((x: any) => x.name === 'type');
  rec.writeUInt16LE(fork.id, typeF.offset);
  rec.writeUInt32LE(1000, f('task.uid').offset);
  rec.writeUInt32LE(2000, f('task.gid').offset);
  const e1 = new Decoder(base).decode(rec, 0, rec.length);
  t.equal(e1?.uid, 1000);
  t.equal(e1?.gid, 2000);
  const swapped = withMeta((m) => {
    const fl = m.record_types.find((r: any) => r.event === 'fork').layout.fields;
    const u = fl.find((x: any) => x.name === 'task.uid');
    const g = fl.find((x: any) => x.name === 'task.gid');
    [u.offset, g.offset] = [g.offset, u.offset];
  });
  const e2 = new Decoder(swapped).decode(rec, 0, rec.length);
  t.equal(e2?.uid, 2000);
  t.equal(e2?.gid, 1000);
});

t.test('hostile metadata is refused in one line', async (t) => {
  const cases: [string, (m: any) => void, RegExp][] = [
    ['code in a field name', (m) => (m.record_types[0].layout.fields[3].name = 'x"]; process.exit(9); //'), /bad metadata: record_types\[0\] field 3: name is not an identifier/],
    ['field past the record', (m) => (m.record_types[2].layout.fields[4].offset = 100000), /bad metadata: record_types\[2\] field 4: offset out of range/],
    ['size runs past the record', (m) => (m.record_types[2].layout.fields.at(-1).size = 4096), /runs past the record/],
    ['duplicate type id', (m) => (m.record_types[1].id = m.record_types[0].id), /duplicate id/],
    ['tail length field missing', (m) => (m.record_types[0].tail[0].len_field = 'nope'), /length field nope not found/],
    ['not a list', (m) => (m.record_types = 'x'), /bad metadata: record_types: not a list/],
    ['no clock', (m) => delete m.clock, /bad metadata: no clock/],
    ['header without type', (m) => (m.record_header.fields = []), /record_header has no type field/],
  ];
  for (const [what, edit, msg] of cases) {
    t.throws(() => new Decoder(withMeta(edit)), msg, what);
  }
});

t.test('hostile records are counted, not fatal', async (t) => {
  const d = new Decoder(base);
  const typeF = base.record_header.fields.find((x: any) => x.name === 'type');
  const unknown = Buffer.alloc(64);
  unknown.writeUInt16LE(999, typeF.offset);
  t.equal(d.decode(unknown, 0, unknown.length), null);
  t.equal(d.decode(Buffer.alloc(1), 0, 1), null, 'shorter than the type field');
  const execT = base.record_types.find((r: any) => r.event === 'exec');
  const short = Buffer.alloc(40);
  short.writeUInt16LE(execT.id, typeF.offset);
  t.equal(d.decode(short, 0, short.length), null, 'shorter than its layout');
  // A tail length that claims more bytes than the record holds is clamped and flagged.
  const rec = Buffer.alloc(execT.layout.size + 8);
  rec.writeUInt16LE(execT.id, typeF.offset);
  const lenF = execT.layout.fields.find((x: any) => x.name === 'args_len');
  rec.writeUInt32LE(1 << 30, lenF.offset);
  rec.write('a\0b\0', execT.layout.size);
  const e = d.decode(rec, 0, rec.length);
  t.equal(e?.malformed, true);
  t.same(d.counts, {records: 4, decoded: 1, unknownType: 1, malformed: 2});
});
