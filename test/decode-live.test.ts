// The live side of decoding (src/decode/live.ts) and the one typed way from a file's
// metadata to the decoder's (decodeMeta), offline from the committed fixtures.

import t from 'tap';
import * as path from 'node:path';
import {decodeMeta, forEachEvent, LiveDecoder, openTrace, type TraceEvent} from '../src/decode';
import {TraceReader} from '../src/format';
import {toJson} from '../src/util/json';

const FIXTURES = path.resolve(__dirname, '..', 'fixtures');

for (const name of ['exec-scenarios.bin', 'syscalls-cat.bin']) {
  t.test(`live: ${name} fed chunk by chunk, as record hands batches over, gives the events decode gives`, async (t) => {
    const file = path.join(FIXTURES, name);
    const want: string[] = [];
    const tr = openTrace(file);
    try {
      forEachEvent(tr, {processes: false}, (e) => want.push(toJson(e)));
    } finally {
      tr.reader.close();
    }
    const got: string[] = [];
    const reader = TraceReader.open(file);
    try {
      const live = new LiveDecoder(reader.meta, (e: TraceEvent) => got.push(toJson(e)));
      // Copies: a live consumer keeps what it is given, and the reader may reuse its buffers.
      for (const chunk of reader.chunks()) live.feed(Buffer.from(chunk.data));
      live.end();
    } finally {
      reader.close();
    }
    t.ok(want.length > 10, `${want.length} events`);
    t.same(got, want);
  });
}

t.test('decodeMeta: the optional parts the decoder walks are checked, in one line', async (t) => {
  const reader = TraceReader.open(path.join(FIXTURES, 'exec-scenarios.bin'));
  const meta = {...reader.meta};
  reader.close();
  t.equal(decodeMeta(meta), meta, 'good metadata is taken as it is');
  t.throws(() => decodeMeta({...meta, processes: {1: {pid: 1}}}), {message: 'bad metadata: processes is not a list of maps'});
  t.throws(() => decodeMeta({...meta, processes: [1]}), {message: 'bad metadata: processes is not a list of maps'});
  t.throws(() => decodeMeta({...meta, flags: 4}), {message: 'bad metadata: flags is not a map'});
  t.throws(() => decodeMeta({...meta, cgroups: ['a']}), {message: 'bad metadata: cgroups is not a map'});
  t.doesNotThrow(() => decodeMeta({...meta, options: null, processes: null}), 'null is as good as absent');
});
