// Kernel tests of the live library side (src/api/tracer.ts): Tracer.open gives typed events
// as they happen, through the same in-kernel filters as record; with `output` the file is a
// whole recording; a slow consumer's queue is bounded and what it drops comes back as lost
// events, in place, so that delivered + dropped = recorded; breaking out of a loop keeps the
// tracer; close frees every program, map and link. Run in this process, as a library is.

import t, {type Test} from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {spawn, spawnSync} from 'node:child_process';
import {Tracer, openTrace, verifyTrace, type TraceEvent} from '../src';
import {NONE, bpfIdsOf, stillLoaded} from './lib/bpf';
import {ROOT, kernelTest} from './lib/kernel';

const PROBE = 'tracer-probe'; // a comm nothing else on the machine has

function probe(dir: string): string {
  const p = path.join(dir, PROBE);
  fs.copyFileSync(path.join(ROOT, 'test', 'progs', 'argdump.out'), p);
  fs.chmodSync(p, 0o755);
  return p;
}

kernelTest(t, 'kernel: Tracer: typed live events, a bounded queue whose drops are lost events in place, close frees everything', async (t) => {
  const dir = t.testdir();
  const prog = probe(dir);
  const output = path.join(dir, 'live.bin');
  const before = bpfIdsOf('self');
  const tracer = await Tracer.open({comm: [PROBE], events: ['exec', 'exit'], output, queue: 6});
  const ours = bpfIdsOf('self');
  t.ok(ours.prog.length > before.prog.length, 'programs loaded in this process');
  t.ok(tracer.meta.host, 'the metadata of the recording');

  const runs = 30;
  for (let i = 0; i < runs; i++) spawnSync(prog, [`run-${i}`]);
  await new Promise((r) => setTimeout(r, 300)); // past the drain's flush
  const got: TraceEvent[] = [];
  for await (const e of tracer) {
    got.push(e);
    if (got.length === 4) break; // leaves the tracer open
  }
  spawnSync(prog, ['after-break']);
  const summary = await tracer.close();
  t.equal(summary.endReason, 'closed');
  for await (const e of tracer) got.push(e); // what was queued is still there

  const execs = got.filter((e) => e.type === 'exec');
  const lost = got.filter((e) => e.type === 'lost');
  t.equal(execs[0].type === 'exec' && execs[0].argv[1], 'run-0', 'the first exec first');
  t.ok(execs.some((e) => e.type === 'exec' && e.argv[1] === 'after-break'), 'an event after the break');
  t.ok(lost.length > 0 && lost.every((e) => e.type === 'lost' && e.queue === true && e.cpu === -1), 'the queue dropped, and said so');
  const count = (type: string) => got.filter((e) => e.type === type).length +
    lost.reduce((a, e) => a + (e.type === 'lost' && e.event === type ? e.count : 0), 0);
  t.equal(count('exec'), runs + 1, 'exec: delivered + dropped = every run');
  t.equal(count('exit'), runs + 1, 'exit: delivered + dropped = every run');
  const totals = tracer.totals();
  t.equal((totals.delivered.exec ?? 0) + (totals.dropped.exec ?? 0), totals.recording?.exec.recorded, 'totals: delivered + dropped = recorded');
  t.equal(totals.recording?.exec.lost, 0, 'the kernel lost nothing');
  // A drop's lost event sits where it happened: after the events queued before it.
  const firstLost = got.findIndex((e) => e.type === 'lost');
  t.ok(firstLost >= 6, `the first lost event after the ${firstLost} events the queue held`);

  t.same(bpfIdsOf('self'), before, 'no fd of ours left');
  t.same(await stillLoaded(ours), NONE, 'the kernel freed every program, map and link');
  t.equal(verifyTrace(output).intact, true, 'the file is whole');
  const fromFile = [...openTrace(output, {type: ['exec'], processes: false})];
  t.equal(fromFile.length, runs + 1, 'the file has every exec, the dropped ones too');
  t.equal(await tracer.close(), summary, 'close again: the same summary');
});

kernelTest(t, 'kernel: Tracer without output writes nothing, and a bad filter fails open with one line', async (t) => {
  const dir = t.testdir();
  const prog = probe(dir);
  const tracer = await Tracer.open({comm: [PROBE]});
  spawnSync(prog, ['one']);
  let exec: TraceEvent | undefined;
  for await (const e of tracer) {
    if (e.type === 'exec') {
      exec = e;
      break;
    }
  }
  t.equal(exec?.type === 'exec' && exec.argv[1], 'one');
  spawnSync(prog, ['two']);
  let batched: TraceEvent[] = [];
  for await (const batch of tracer.batches()) {
    batched = batched.concat(batch);
    if (batched.some((e) => e.type === 'exec' && e.argv[1] === 'two')) break;
  }
  const oneExit = batched.findIndex((e) => e.type === 'exit' && e.argv?.[1] === 'one');
  const twoExec = batched.findIndex((e) => e.type === 'exec' && e.argv[1] === 'two');
  t.ok(oneExit >= 0 && oneExit < twoExec, `batches() gives what arrived, in order: one's exit (${oneExit}) before two's exec (${twoExec})`);
  const s = await tracer.close();
  t.equal(s.output, null, 'no file');
  t.same(fs.readdirSync(dir), [PROBE], 'nothing written');
  await t.rejects(Tracer.open({comm: ['a-name-longer-than-15']}), /--comm 'a-name-longer-than-15': a command name is 1 to 15 bytes/);
  await t.rejects(Tracer.open({syscalls: ['opneat']}), /unknown syscall 'opneat' \(did you mean openat\?\)/);
});

/** A program of its own with a Tracer open: resolves with it once the tracer is open. */
function tracerProgram(t: Test, mode: 'wait' | 'throw') {
  const script = `
const {Tracer} = require(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'index.js'))});
(async () => {
  const tracer = await Tracer.open({comm: [${JSON.stringify(PROBE)}]});
  console.log('open');
  if (${JSON.stringify(mode)} === 'throw') setTimeout(() => { throw new Error('a bug in the program'); }, 50);
  for await (const e of tracer) void e;
  console.log('ended:', (await tracer.done).endReason);
})();
`;
  const child = spawn(process.execPath, ['-e', script], {stdio: ['ignore', 'pipe', 'pipe']});
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<{code: number | null; out: string; err: string}>((resolve) => child.on('exit', (code) => resolve({code, out, err})));
  const open = new Promise<void>((resolve) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('open')) resolve();
    });
    void exited.then(() => resolve());
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return {child, open, exited};
}

kernelTest(t, 'kernel: a program with a Tracer open ends on SIGINT, SIGTERM or an uncaught exception, and nothing of ours stays loaded', async (t) => {
  for (const how of ['SIGINT', 'SIGTERM', 'throw'] as const) {
    const p = tracerProgram(t, how === 'throw' ? 'throw' : 'wait');
    await p.open;
    const ids = bpfIdsOf(p.child.pid as number);
    t.ok(ids.prog.length > 0, `${how}: the program holds our programs`);
    if (how !== 'throw') p.child.kill(how);
    const end = await p.exited;
    if (how === 'throw') {
      t.not(end.code, 0, 'the exception ends the program');
      t.match(end.err, /a bug in the program/);
    } else {
      t.equal(end.code, 0, `${how}: the recording stops, the loop ends, the program ends: ${end.err}`);
      t.match(end.out, new RegExp(`ended: signal ${how}`));
    }
    t.same(await stillLoaded(ids), NONE, `${how}: the kernel freed every program, map and link`);
  }
});
