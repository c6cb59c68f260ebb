// The native addon (native/, binding.gyp) and its TypeScript wrapper
// (src/record/native.ts).
//
// Argument checks run anywhere. Tests that open a BPF object need the built
// addon and bpf/exectrace.bpf.o; tests named `kernel: ...` load BPF for real
// and also need root and kernel BTF. Without them they are skipped with the
// reason printed, except under CI=true, where a missing capability fails.

import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { btfFromElf, recordLayout, RecordLayout, rodataImage } from '../src/btf';
import {
  DrainOptions,
  MapDump,
  NativeBinding,
  NativeTracer,
  TracerOptions,
  addonPath,
  loadNative,
  openTracer,
} from '../src/record/native';
import { ensureTracefs } from '../src/record/preflight';
import { ET_EXEC, ET_F_NO_ENTER, ET_LOST, ET_SYS_EXIT, ET_SYSCALL_MAX, ET_SYSD_TRACE, ET_TASK, ET_TYPE_MAX } from '../src/abi';

const ROOT = resolve(__dirname, '..');
const OBJECT = join(ROOT, 'bpf/exectrace.bpf.o');
const FAULTS_SRC = join(ROOT, 'test/progs/native_faults.bpf.c');
const CI = process.env.CI === 'true';

const COUNTER_SIZE = 24; // struct et_counter: sent, lost, filtered
const NR_READ = 0; // x86_64
const NR_GETPPID = 110;
const SYS_PROGRAMS = ['sys_enter', 'sys_exit'];

function addonMissing(): string | undefined {
  if (process.platform !== 'linux') return 'the addon is Linux-only';
  if (!existsSync(addonPath())) return `addon not built (${addonPath()}): run make build`;
  if (!existsSync(OBJECT)) return `${OBJECT} missing: run make bpf`;
  return undefined;
}

function kernelMissing(): string | undefined {
  const addon = addonMissing();
  if (addon) return addon;
  if (process.geteuid?.() !== 0) return 'not root (loading BPF needs CAP_BPF and CAP_PERFMON)';
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'no kernel BTF at /sys/kernel/btf/vmlinux';
  try {
    ensureTracefs(); // the object's syscall tracepoints attach through tracefs
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

type Tap = tap.Test;

const ADDON = addonMissing();
const KERNEL = kernelMissing();

/** A test that needs what `missing` checks: skipped with the reason, or failed under CI=true. */
function gated(name: string, missing: string | undefined, fn: (t: Tap) => Promise<void>): void {
  if (missing === undefined) {
    t.test(name, fn);
  } else if (CI) {
    t.test(name, async (t) => {
      t.fail(`cannot run under CI=true: ${missing}`);
    });
  } else {
    t.test(name, { skip: missing }, async () => {});
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface BpfFd {
  kind: string; // bpf-prog, bpf-map, bpf_link
  id: number;
}

/** The BPF objects this process holds open, read from /proc/self/fd and fdinfo. */
function bpfFds(): BpfFd[] {
  const out: BpfFd[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    let info: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
      info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    } catch {
      continue; // the directory's own fd, or closed meanwhile
    }
    const kind = /^anon_inode:(bpf[-_a-z]+)$/.exec(target)?.[1];
    if (!kind) continue;
    const id = /^(?:prog|map|link)_id:\s*(\d+)$/m.exec(info)?.[1];
    out.push({ kind, id: Number(id ?? -1) });
  }
  return out;
}

function bpftoolProgs(): { id: number; name: string }[] | undefined {
  const r = spawnSync('bpftool', ['-j', 'prog', 'list'], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  return JSON.parse(r.stdout) as { id: number; name: string }[];
}

interface Frame {
  offset: number; // of the record, after its length prefix
  length: number;
}

/** Splits batches into frames, asserting that the lengths add up exactly. */
function frames(t: Tap, batches: Buffer[]): { batch: Buffer; frame: Frame }[] {
  const out: { batch: Buffer; frame: Frame }[] = [];
  let bad = 0;
  for (const batch of batches) {
    let p = 0;
    while (p + 4 <= batch.length) {
      const length = batch.readUInt32LE(p);
      if (p + 4 + length > batch.length) break;
      out.push({ batch, frame: { offset: p + 4, length } });
      p += 4 + length;
    }
    if (p !== batch.length) bad++;
  }
  t.equal(bad, 0, 'every batch is a whole number of frames');
  return out;
}

/** The pids of the exec records in batches (header: the object's et_header layout). */
function execPids(t: Tap, batches: Buffer[], header: RecordLayout): Set<number> {
  const pidAt = header.fields.find((f) => f.name === 'pid')!.offset;
  return new Set(
    frames(t, batches)
      .filter(({ batch, frame }) => batch.readUInt16LE(frame.offset) === ET_EXEC)
      .map(({ batch, frame }) => batch.readUInt32LE(frame.offset + pidAt)),
  );
}

// ---------------------------------------------------------------------------
// Anywhere: argument checks in the wrapper, with a stand-in binding.

function fakeBinding(calls: unknown[]): NativeBinding {
  class FakeTracer implements NativeTracer {
    readonly nrCpus = 2;
    constructor(options: TracerOptions) {
      calls.push(['new', options]);
    }
    attach(): void {}
    detach(): void {}
    start(_onBatch: (b: Buffer) => void, options: DrainOptions): void {
      calls.push(['start', options]);
    }
    stop(): Promise<void> {
      calls.push(['stop']);
      return sleep(1).then(() => undefined);
    }
    counters(mapName?: string): Buffer {
      calls.push(['counters', mapName]);
      return Buffer.alloc(0);
    }
    mapUpdate(mapName: string, key: Buffer, value: Buffer): void {
      calls.push(['mapUpdate', mapName, key, value]);
    }
    mapDelete(mapName: string, key: Buffer): boolean {
      calls.push(['mapDelete', mapName, key]);
      return true;
    }
    mapDump(mapName: string): MapDump {
      calls.push(['mapDump', mapName]);
      return { keys: Buffer.alloc(0), values: Buffer.alloc(0), count: 0, keySize: 4, valueSize: 4 };
    }
    taskStorage(mapName: string, tids: Uint32Array): MapDump {
      calls.push(['taskStorage', mapName, [...tids]]);
      return { keys: Buffer.alloc(0), values: Buffer.alloc(0), count: 0, keySize: 4, valueSize: 4 };
    }
    close(): void {}
  }
  return {
    Tracer: FakeTracer,
    clocks: () => ({ boot_ns: 0n, realtime_ns: 0n, monotonic_ns: 0n, uncertainty_ns: 0n }),
    pageSize: 4096,
    libbpfVersion: 'v0.0',
  };
}

t.test('options are checked before they reach the addon', async (t) => {
  const calls: unknown[] = [];
  const binding = fakeBinding(calls);
  const refused: [TracerOptions, string][] = [
    [{ object: '' }, 'tracer options: object must be the path of a .bpf.o file'],
    [{ object: 'x.o', rodata: 'abc' as unknown as Buffer }, 'tracer options: rodata must be a Buffer holding the whole .rodata image'],
    [{ object: 'x.o', ringBytes: 2048 }, 'tracer options: ringBytes 2048 must be a power of two from the page size (4096) to 2147483648'],
    [{ object: 'x.o', ringBytes: 3 * 4096 }, 'tracer options: ringBytes 12288 must be a power of two from the page size (4096) to 2147483648'],
    [{ object: 'x.o', ringBytes: 2 ** 32 }, 'tracer options: ringBytes 4294967296 must be a power of two from the page size (4096) to 2147483648'],
    [{ object: 'x.o', ringBytes: 65536.5 }, 'tracer options: ringBytes 65536.5 must be a power of two from the page size (4096) to 2147483648'],
    [{ object: 'x.o', disable: 'sys_enter' as unknown as string[] }, 'tracer options: disable must be an array of program names'],
    [{ object: 'x.o', disable: ['sys_enter', ''] }, 'tracer options: disable must be an array of program names'],
    [{ object: 'x.o', maxEntries: [] as unknown as Record<string, number> }, 'tracer options: maxEntries must be an object { mapName: entries }'],
    [{ object: 'x.o', maxEntries: { sys_stash: 0 } }, 'tracer options: maxEntries.sys_stash 0 must be an integer from 1 to 4294967295'],
    [{ object: 'x.o', maxEntries: { events: 4096 } }, 'tracer options: maxEntries cannot resize events; use ringBytes'],
  ];
  for (const [options, message] of refused) {
    t.throws(() => openTracer(options, binding), new TypeError(message), message);
  }
  t.same(calls, [], 'nothing crossed');

  const tracer = openTracer({ object: 'x.o', ringBytes: 1 << 20 }, binding);
  t.same(calls, [['new', { object: 'x.o', ringBytes: 1 << 20 }]]);
  openTracer({ object: 'x.o', disable: ['sys_enter', 'sys_exit'], maxEntries: { sys_stash: 1 } }, binding);
  t.same(calls.at(-1), ['new', { object: 'x.o', disable: ['sys_enter', 'sys_exit'], maxEntries: { sys_stash: 1 } }], 'disable and maxEntries cross');

  t.throws(() => tracer.mapUpdate('', Buffer.alloc(4), Buffer.alloc(4)), new TypeError('mapUpdate: mapName must be a map name'));
  t.throws(() => tracer.mapUpdate('m', 'k' as unknown as Buffer, Buffer.alloc(4)), new TypeError('mapUpdate m: key must be a Buffer'));
  t.throws(() => tracer.mapUpdate('m', Buffer.alloc(4), 1 as unknown as Buffer), new TypeError('mapUpdate m: value must be a Buffer'));
  t.throws(() => tracer.mapDump(7 as unknown as string), new TypeError('mapDump: mapName must be a map name'));
  t.throws(() => tracer.mapDelete('', Buffer.alloc(4)), new TypeError('mapDelete: mapName must be a map name'));
  t.throws(() => tracer.mapDelete('m', 'k' as unknown as Buffer), new TypeError('mapDelete m: key must be a Buffer'));
  t.throws(() => tracer.counters(''), new TypeError('counters: mapName must be a map name'));
  const before = calls.length;
  tracer.counters();
  tracer.counters('sys_counters');
  tracer.mapDump('sys_stash');
  t.same(calls.slice(before), [['counters', 'counters'], ['counters', 'sys_counters'], ['mapDump', 'sys_stash']], 'counters() reads `counters` by default');
  const onBatch = () => {};
  t.throws(() => tracer.start(null as never, { batchBytes: 1, flushMs: 1 }), new TypeError('start: onBatch must be a function'));
  t.throws(
    () => tracer.start(onBatch, { batchBytes: 0, flushMs: 10 }),
    new TypeError('start: batchBytes 0 must be an integer from 1 to 1073741824'),
  );
  t.throws(
    () => tracer.start(onBatch, { batchBytes: 4096, flushMs: 1.5 }),
    new TypeError('start: flushMs 1.5 must be an integer from 1 to 2147483647'),
  );
  t.throws(() => tracer.start(onBatch, { batchBytes: 4096, flushMs: 10, pool: 65 }), new TypeError('start: pool 65 must be an integer from 0 to 64'));
  t.throws(
    () => tracer.start(onBatch, { batchBytes: 4096, flushMs: 10, header: { size: 32, typeOffset: 0, typeSize: 2, tsOffset: 28, types: 9 } }),
    /^start: header must be/,
  );
  t.throws(
    () => tracer.start(onBatch, { batchBytes: 4096, flushMs: 10, header: { size: 32, typeOffset: 0, typeSize: 2, tsOffset: 8, types: 65 } }),
    /^start: header must be/,
  );
  tracer.start(onBatch, { batchBytes: 4096, flushMs: 10, extra: 1 } as DrainOptions);
  t.same(calls.at(-1), ['start', { batchBytes: 4096, flushMs: 10 }], 'only the known options cross');

  const a = tracer.stop();
  t.equal(tracer.stop(), a, 'a second stop() while one is in flight shares its promise');
  t.throws(() => tracer.start(onBatch, { batchBytes: 4096, flushMs: 10 }), /stop\(\) has not finished/);
  await a;
  t.equal(calls.filter((c) => (c as unknown[])[0] === 'stop').length, 1, 'one native stop()');
});

t.test('a missing addon names the fix', async (t) => {
  const file = '/nonexistent/exectrace/build/Release/exectrace_native.node';
  t.throws(
    () => loadNative(file),
    new Error(`the native addon that record needs is not built (${file} is missing): install libbpf-dev and pkg-config ` +
      '(apt-get install libbpf-dev pkg-config), then run `npm rebuild -g exectrace`'),
    'an installed package: what to install',
  );
  const checkout = t.testdir({Makefile: '', build: {Release: {}}});
  const inCheckout = `${checkout}/build/Release/exectrace_native.node`;
  t.throws(
    () => loadNative(inCheckout),
    new Error(`the native addon that record needs is not built (${inCheckout} is missing): run \`make build\` in ${checkout}`),
    'a checkout: make build',
  );
});

// ---------------------------------------------------------------------------
// Needs the addon and the object; opening parses ELF only, no privilege.

gated('open: a nonexistent object is a clean error', ADDON, async (t) => {
  t.throws(
    () => openTracer({ object: '/nonexistent/x.bpf.o' }),
    new Error('open bpf object /nonexistent/x.bpf.o: No such file or directory'),
  );
});

gated('open: a .rodata image of the wrong size is refused', ADDON, async (t) => {
  const size = rodataImage(readFileSync(OBJECT), {}).length;
  const before = bpfFds().length;
  t.throws(
    () => openTracer({ object: OBJECT, rodata: Buffer.alloc(size + 1) }),
    new Error(`rodata: image is ${size + 1} bytes, the object's .rodata is ${size} bytes`),
  );
  t.equal(bpfFds().length, before, 'nothing left open');
});

// ---------------------------------------------------------------------------
// kernel: load and attach for real.

gated('kernel: load, attach, drain execs, counters, close', KERNEL, async (t) => {
  const native = loadNative();
  t.ok(Number.isInteger(Math.log2(native.pageSize)), `page size ${native.pageSize} is a power of two`);
  const tracer = openTracer({ object: OBJECT, ringBytes: 1 << 22 });
  t.teardown(() => tracer.close());
  const nrCpus = tracer.nrCpus;
  t.ok(nrCpus >= 1, `nrCpus ${nrCpus}`);

  tracer.attach();
  const held = bpfFds();
  const progIds = held.filter((f) => f.kind === 'bpf-prog').map((f) => f.id);
  t.ok(progIds.length > 0, 'programs loaded');
  t.ok(held.some((f) => f.kind === 'bpf_link'), 'programs attached');
  t.throws(() => tracer.attach(), new Error('attach: already attached'));

  const batches: Buffer[] = [];
  tracer.start((b) => batches.push(b), { batchBytes: 1 << 16, flushMs: 20 });
  t.throws(() => tracer.start(() => {}, { batchBytes: 1, flushMs: 1 }), new Error('start: already started'));

  const children: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = spawnSync('/bin/true', ['a', 'b']);
    t.equal(r.status, 0);
    children.push(r.pid);
  }
  await sleep(200); // well past flushMs: the timer path delivers without stop()
  t.ok(batches.length > 0, 'batches arrive on the flush timer, before stop()');
  await tracer.stop();
  await tracer.stop(); // stopped already: resolves at once

  const all = frames(t, batches);
  const objBytes = readFileSync(OBJECT);
  const btf = btfFromElf(objBytes);
  const header = recordLayout(btf, 'et_header');
  const exec = recordLayout(btf, 'et_exec');
  const at = (l: typeof header, name: string) => {
    const f = l.fields.find((x) => x.name === name);
    if (!f) throw new Error(`${l.name}.${name} not in BTF`);
    return f.offset;
  };
  let unknownType = 0;
  let sizeMismatch = 0;
  const execs = new Map<number, string[]>();
  for (const { batch, frame } of all) {
    const type = batch.readUInt16LE(frame.offset + at(header, 'type'));
    const size = batch.readUInt32LE(frame.offset + at(header, 'size'));
    if (type < 1 || type >= ET_TYPE_MAX || type === ET_LOST) unknownType++;
    if (size !== frame.length) sizeMismatch++;
    if (type !== ET_EXEC) continue;
    const pid = batch.readUInt32LE(frame.offset + at(header, 'pid'));
    if (!children.includes(pid)) continue;
    const rec = batch.subarray(frame.offset, frame.offset + frame.length);
    const tail = exec.tail!.offset;
    const filenameLen = rec.readUInt32LE(at(exec, 'filename_len'));
    const interpLen = rec.readUInt32LE(at(exec, 'interp_len'));
    const argsLen = rec.readUInt32LE(at(exec, 'args_len'));
    const args = rec.subarray(tail + filenameLen + interpLen, tail + filenameLen + interpLen + argsLen);
    execs.set(pid, args.toString('latin1').split('\0').slice(0, -1));
  }
  t.ok(all.length > 0, `${all.length} frames in ${batches.length} batches`);
  t.equal(unknownType, 0, 'every record type is a known et_type written by BPF');
  t.equal(sizeMismatch, 0, 'et_header.size equals the frame length');
  t.same(
    children.map((pid) => execs.get(pid)),
    children.map(() => ['/bin/true', 'a', 'b']),
    'each child exec was recorded with its argv',
  );

  const counters = tracer.counters();
  t.equal(counters.length, nrCpus * ET_TYPE_MAX * COUNTER_SIZE, 'counters: [key][cpu][24 bytes]');
  let sentExec = 0n;
  for (let cpu = 0; cpu < nrCpus; cpu++) sentExec += counters.readBigUInt64LE((ET_EXEC * nrCpus + cpu) * COUNTER_SIZE);
  const execFrames = all.filter(({ batch, frame }) => batch.readUInt16LE(frame.offset) === ET_EXEC).length;
  t.ok(sentExec >= BigInt(execFrames) && execFrames >= children.length, `sent execs ${sentExec} >= received ${execFrames}`);

  tracer.close();
  tracer.close();
  t.throws(() => tracer.counters(), new Error('counters: tracer is closed'));
  t.same(bpfFds(), [], 'no BPF fds left open');

  const listed = bpftoolProgs();
  if (listed === undefined) {
    if (CI) t.fail('bpftool prog list failed');
    else t.comment('bpftool not usable: skipping the kernel-side check');
    return;
  }
  // Links release their programs after an RCU grace period: give it a moment.
  let left: number[] = [];
  for (let i = 0; i < 50; i++) {
    left = (bpftoolProgs() ?? []).filter((p) => progIds.includes(p.id)).map((p) => p.id);
    if (left.length === 0) break;
    await sleep(100);
  }
  t.same(left, [], 'bpftool prog list shows none of our programs after close');
});

gated('kernel: a .rodata image of the right size loads', KERNEL, async (t) => {
  const rodata = rodataImage(readFileSync(OBJECT), {});
  const tracer = openTracer({ object: OBJECT, rodata });
  tracer.close();
  t.pass(`loaded with a ${rodata.length}-byte image`);
});

gated('kernel: close() while the drain waits on a full queue does not wait for JS', KERNEL, async (t) => {
  const tracer = openTracer({ object: OBJECT, ringBytes: 1 << 22 });
  tracer.attach();
  let delivered = 0;
  // One record per batch, and this thread busy spawning: the queue (16) fills
  // and the drain thread blocks in BlockingCall.
  tracer.start(() => delivered++, { batchBytes: 1, flushMs: 1 });
  for (let i = 0; i < 40; i++) spawnSync('/bin/true');
  const started = Date.now();
  tracer.close();
  const took = Date.now() - started;
  t.ok(took < 1000, `close() returned in ${took} ms`);
  await sleep(50);
  t.equal(delivered, 0, 'no batch reaches JS after close()');
  t.same(bpfFds(), [], 'no BPF fds left open');
});

gated('kernel: stop() then close() at once: the promise still resolves', KERNEL, async (t) => {
  const tracer = openTracer({ object: OBJECT, ringBytes: 1 << 22 });
  tracer.attach();
  tracer.start(() => {}, { batchBytes: 1, flushMs: 1 });
  for (let i = 0; i < 40; i++) spawnSync('/bin/true');
  const stopped = tracer.stop();
  tracer.close();
  await stopped;
  t.pass('resolved');
});

gated('kernel: stop() delivers every batch left in a full queue', KERNEL, async (t) => {
  const tracer = openTracer({ object: OBJECT, ringBytes: 1 << 22 });
  t.teardown(() => tracer.close());
  tracer.attach();
  const batches: Buffer[] = [];
  tracer.start((b) => batches.push(b), { batchBytes: 1, flushMs: 1 });
  const children: number[] = [];
  for (let i = 0; i < 40; i++) children.push(spawnSync('/bin/true').pid);
  await tracer.stop();
  const header = recordLayout(btfFromElf(readFileSync(OBJECT)), 'et_header');
  const pids = execPids(t, batches, header);
  t.same(children.filter((pid) => !pids.has(pid)), [], 'every child exec arrived');
  t.ok(batches.every((b) => b.readUInt32LE(0) + 4 === b.length), 'batchBytes 1: one record per batch');
});

gated('kernel: pooled batches with summaries match the frames they describe', KERNEL, async (t) => {
  const tracer = openTracer({ object: OBJECT, ringBytes: 1 << 22 });
  t.teardown(() => tracer.close());
  const header = recordLayout(btfFromElf(readFileSync(OBJECT)), 'et_header');
  const typeF = header.fields.find((f) => f.name === 'type')!;
  const tsAt = header.fields.find((f) => f.name === 'ts_ns')!.offset;
  tracer.attach();
  // Small batches and 2 slots: the pool runs dry at times and malloc'd batches come too.
  const copies: Buffer[] = [];
  const seen = new Set<ArrayBufferLike>();
  let wrong = 0;
  let pooled = 0;
  tracer.start((b, s) => {
    const copy = Buffer.from(b); // a pooled batch is only ours during the call
    copies.push(copy);
    if (seen.has(b.buffer)) pooled++;
    seen.add(b.buffer);
    if (!s) {
      wrong++;
      return;
    }
    const counts = new Array<number>(ET_TYPE_MAX).fill(0);
    let n = 0;
    let first = 0n;
    let last = 0n;
    for (const { frame } of frames(t, [copy])) {
      n++;
      counts[copy.readUInt16LE(frame.offset + typeF.offset)]++;
      const ts = copy.readBigUInt64LE(frame.offset + tsAt);
      if (n === 1 || ts < first) first = ts;
      if (ts > last) last = ts;
    }
    if (s.frames[0] !== n || s.frames[1] !== n || s.frames[2] !== 0 || s.ts[0] !== first || s.ts[1] !== last ||
        counts.some((c, i) => s.counts[i] !== c)) wrong++;
  }, {
    batchBytes: 4096,
    flushMs: 5,
    pool: 2,
    header: { size: header.size, typeOffset: typeF.offset, typeSize: typeF.size as 2, tsOffset: tsAt, types: ET_TYPE_MAX },
  });
  const children: number[] = [];
  for (let i = 0; i < 30; i++) children.push(spawnSync('/bin/true', ['x'.repeat(3000)]).pid);
  await tracer.stop();
  t.ok(copies.length > 1, `${copies.length} batches`);
  t.ok(pooled > 0, 'pool buffers are reused');
  t.equal(wrong, 0, 'every summary gives the frames, the time span and the count per type of its batch');
  const pids = execPids(t, copies, header);
  t.same(children.filter((pid) => !pids.has(pid)), [], 'every child exec arrived');
});

gated('kernel: process exit and worker termination with a running drain', KERNEL, async (t) => {
  const addon = JSON.stringify(addonPath());
  const object = JSON.stringify(OBJECT);
  const setup = `const n = require(${addon}); const cp = require('child_process');
    const tr = new n.Tracer({ object: ${object} }); tr.attach();
    tr.start(() => {}, { batchBytes: 1, flushMs: 1 });
    for (let i = 0; i < 40; i++) cp.spawnSync('/bin/true');`;
  const exit = spawnSync(process.execPath, ['-e', `${setup} process.exit(7);`], { encoding: 'utf8', timeout: 20000 });
  t.equal(exit.status, 7, 'process.exit() with a full queue exits');
  t.equal(exit.stderr, '', 'and says nothing');

  const worker = `const { Worker } = require('worker_threads');
    (async () => {
      for (let i = 0; i < 3; i++) {
        const w = new Worker(${JSON.stringify(setup)} + "require('worker_threads').parentPort.postMessage(1); for (;;) {}", { eval: true });
        await new Promise((r) => w.once('message', r));
        await w.terminate();
      }
      const fs = require('fs');
      const left = fs.readdirSync('/proc/self/fd').filter((f) => { try { return fs.readlinkSync('/proc/self/fd/' + f).includes('bpf') } catch { return false } });
      console.log(left.length);
    })();`;
  const w = spawnSync(process.execPath, ['-e', worker], { encoding: 'utf8', timeout: 30000 });
  t.equal(w.status, 0, 'terminating busy workers with running tracers is clean');
  t.equal(w.stdout.trim(), '0', 'and leaves no BPF fds behind');
  t.equal(w.stderr, '');
});

gated('kernel: a throw from onBatch is an uncaught exception', KERNEL, async (t) => {
  const script = `const n = require(${JSON.stringify(addonPath())}); const cp = require('child_process');
    const tr = new n.Tracer({ object: ${JSON.stringify(OBJECT)} }); tr.attach();
    tr.start(() => { throw new Error('thrown by onBatch'); }, { batchBytes: 1, flushMs: 1 });
    cp.spawnSync('/bin/true');`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20000 });
  t.equal(r.status, 1, 'the process dies as for any uncaught exception');
  t.match(r.stderr, /^Error: thrown by onBatch$/m);
});

// ---------------------------------------------------------------------------
// kernel: the syscall programs and the map API.

function key32(n: number): Buffer {
  const k = Buffer.alloc(4);
  k.writeUInt32LE(n);
  return k;
}

/** bpftool's names (cut at 15 characters) of the programs this process holds. */
function heldProgramNames(): string[] | undefined {
  const ids = bpfFds()
    .filter((f) => f.kind === 'bpf-prog')
    .map((f) => f.id);
  return bpftoolProgs()
    ?.filter((p) => ids.includes(p.id))
    .map((p) => p.name)
    .sort();
}

gated('kernel: disable keeps named programs from loading; an unknown name is an error', KERNEL, async (t) => {
  const names = (disable?: string[]): string[] | undefined => {
    const tracer = openTracer({ object: OBJECT, ...(disable && { disable }) });
    try {
      tracer.attach();
      return heldProgramNames();
    } finally {
      tracer.close();
    }
  };
  const all = names();
  const some = names(SYS_PROGRAMS);
  if (all === undefined || some === undefined) {
    if (CI) t.fail('bpftool prog list failed');
    else t.comment('bpftool not usable: cannot list program names');
  } else {
    t.ok(SYS_PROGRAMS.every((n) => all.includes(n)), 'by default sys_enter and sys_exit load');
    t.same(
      some,
      all.filter((n) => !SYS_PROGRAMS.includes(n)),
      'disabled: every other program, not those two',
    );
  }
  t.throws(
    () => openTracer({ object: OBJECT, disable: ['sys_entr'] }),
    /^disable: object has no program 'sys_entr' \(programs: (\w+, )*sys_enter, (\w+, )*sys_exit(, \w+)*\)$/,
  );
  t.same(bpfFds(), [], 'nothing left open');
});

gated('kernel: mapUpdate checks sizes and names the map; mapDump reads hash and array maps', KERNEL, async (t) => {
  const btf = btfFromElf(readFileSync(OBJECT));
  const sysdesc = recordLayout(btf, 'et_sysdesc');
  const tracer = openTracer({ object: OBJECT, disable: SYS_PROGRAMS, maxEntries: { exec_calls: 16 } });
  t.teardown(() => tracer.close());
  const desc = Buffer.alloc(sysdesc.size);

  t.throws(() => tracer.mapUpdate('nope', key32(0), desc), new Error("object has no map 'nope'"));
  t.throws(
    () => tracer.mapUpdate('sys_descs', Buffer.alloc(3), desc),
    new Error("update map sys_descs: key is 3 bytes, the map's key is 4 bytes"),
  );
  t.throws(
    () => tracer.mapUpdate('sys_descs', key32(0), Buffer.alloc(sysdesc.size + 1)),
    new Error(`update map sys_descs: value is ${sysdesc.size + 1} bytes, the map's value is ${sysdesc.size} bytes`),
  );
  t.throws(
    () => tracer.mapUpdate('sys_descs', key32(ET_SYSCALL_MAX), desc),
    new Error('update map sys_descs: Argument list too long'),
    'a key past the end of an array',
  );
  t.throws(() => tracer.mapUpdate('counters', key32(0), Buffer.alloc(COUNTER_SIZE)), new Error('update map counters: not a hash or array map'));
  t.throws(() => tracer.mapDump('counters'), new Error('dump map counters: a per-cpu map'));
  t.throws(() => tracer.mapDump('events'), new Error('dump map events: not a hash or array map'));

  desc.writeUInt32LE(ET_SYSD_TRACE, 0);
  desc.fill(7, sysdesc.size - 8);
  tracer.mapUpdate('sys_descs', key32(NR_GETPPID), desc);
  const descs = tracer.mapDump('sys_descs');
  t.same([descs.count, descs.keySize, descs.valueSize], [ET_SYSCALL_MAX, 4, sysdesc.size], 'an array dumps every index');
  const keys = Array.from({ length: descs.count }, (_, i) => descs.keys.readUInt32LE(i * 4));
  t.same(keys, Array.from({ length: ET_SYSCALL_MAX }, (_, i) => i), 'in key order');
  const value = (i: number) => descs.values.subarray(i * sysdesc.size, (i + 1) * sysdesc.size);
  t.ok(value(NR_GETPPID).equals(desc), 'the written value reads back');
  t.ok(value(NR_READ).equals(Buffer.alloc(sysdesc.size)), 'the others are zero');

  // `pids`, the --pid/--follow set: u32 tgid → u8.
  const one = Buffer.from([1]);
  tracer.mapUpdate('pids', key32(4242), one);
  tracer.mapUpdate('pids', key32(17), one);
  tracer.mapUpdate('pids', key32(4242), one);
  const set = tracer.mapDump('pids');
  t.equal(set.count, 2, 'a hash dumps its entries, each once');
  t.same(Array.from({ length: set.count }, (_, i) => set.keys.readUInt32LE(i * 4)).sort((a, b) => a - b), [17, 4242]);
  t.equal(tracer.mapDelete('pids', key32(17)), true, 'mapDelete: true when the key was there');
  t.equal(tracer.mapDelete('pids', key32(17)), false, 'false when it was not');
  t.equal(tracer.mapDump('pids').count, 1);
  t.throws(() => tracer.mapDelete('pids', Buffer.alloc(2)), new Error('delete from map pids: key is 2 bytes, the map\'s key is 4 bytes'));
  t.throws(() => tracer.mapDelete('sys_descs', key32(0)), new Error('delete from map sys_descs: not a hash map'));
  t.equal(tracer.mapDump('exec_calls').count, 0, 'an empty hash: count 0');
  t.throws(() => tracer.mapDump('sys_stash'), new Error('dump map sys_stash: not a hash or array map'), 'task storage has no keys to walk');
  t.equal(tracer.taskStorage('sys_stash', Uint32Array.of(process.pid)).count, 0, 'taskStorage: a thread without a value is left out');
  t.throws(() => tracer.taskStorage('pids', Uint32Array.of(process.pid)), new Error('look up map pids: not a task-storage map'));
  tracer.close();
  t.throws(() => tracer.mapDump('exec_calls'), new Error('mapDump: tracer is closed'));
});

/** Resolves once /proc/<pid>/syscall says the process is blocked in syscall nr. */
async function blockedIn(pid: number, nr: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if (readFileSync(`/proc/${pid}/syscall`, 'utf8').startsWith(`${nr} `)) return;
    } catch {
      // not there yet
    }
    await sleep(10);
  }
  throw new Error(`process ${pid} never blocked in syscall ${nr}`);
}

gated('kernel: syscall exits, NO_ENTER, task context, sys_counters, in-flight calls in sys_stash', KERNEL, async (t) => {
  const objBytes = readFileSync(OBJECT);
  const btf = btfFromElf(objBytes);
  const exitL = recordLayout(btf, 'et_sys_exit');
  const taskL = recordLayout(btf, 'et_task_ctx');
  const stashL = recordLayout(btf, 'et_sys_stash');
  const at = (l: typeof exitL, name: string) => {
    const f = l.fields.find((x) => x.name === name);
    if (!f) throw new Error(`${l.name}.${name} not in BTF`);
    return f.offset;
  };

  // Blocked in read(0) before the programs attach: that read's exit has no entry.
  const script = 'import os\nwhile os.read(0, 64):\n    for _ in range(100): os.getppid()\n';
  const child = spawn('/usr/bin/python3', ['-c', script], { stdio: ['pipe', 'ignore', 'inherit'] });
  t.teardown(() => child.kill());
  await blockedIn(child.pid!, NR_READ);

  const rodata = rodataImage(objBytes, { trace_syscalls: 1, self_tgid: process.pid });
  const tracer = openTracer({ object: OBJECT, rodata, ringBytes: 1 << 22 });
  t.teardown(() => tracer.close());
  const desc = Buffer.alloc(recordLayout(btf, 'et_sysdesc').size);
  desc.writeUInt32LE(ET_SYSD_TRACE, 0);
  for (const nr of [NR_READ, NR_GETPPID]) tracer.mapUpdate('sys_descs', key32(nr), desc);
  tracer.attach();
  const batches: Buffer[] = [];
  tracer.start((b) => batches.push(b), { batchBytes: 1 << 16, flushMs: 20 });
  child.stdin!.write('x');
  await sleep(50);
  await blockedIn(child.pid!, NR_READ); // read again: in flight at stop
  await tracer.stop();
  const stash = tracer.taskStorage('sys_stash', Uint32Array.of(child.pid!));
  const sysCounters = tracer.counters('sys_counters');
  const nrCpus = tracer.nrCpus;
  tracer.close();
  child.stdin!.end();

  const recs = frames(t, batches).map(({ batch, frame }) => batch.subarray(frame.offset, frame.offset + frame.length));
  t.notOk(recs.some((r) => r.readUInt16LE(0) >= ET_SYS_EXIT && r.readUInt32LE(16) === process.pid), 'nothing of the recorder itself (self_tgid)');
  const mine = recs.filter((r) => r.readUInt32LE(16) === child.pid);
  t.equal(mine[0]?.readUInt16LE(0), ET_TASK, "the child's context comes before its first record");
  const comm = mine[0]?.subarray(at(taskL, 'task.comm'), at(taskL, 'task.comm') + 16).toString('latin1').replace(/\0+$/, '');
  t.equal(comm, 'python3');
  const exits = mine.filter((r) => r.readUInt16LE(0) === ET_SYS_EXIT);
  const nr = (r: Buffer) => r.readUInt32LE(at(exitL, 'nr'));
  const first = exits[0];
  t.same(
    first && [nr(first), first.readUInt16LE(2), first.readBigInt64LE(at(exitL, 'ret')), first.readBigUInt64LE(at(exitL, 'enter_ts_ns'))],
    [NR_READ, ET_F_NO_ENTER, 1n, 0n],
    'the read in progress at attach: ret 1, NO_ENTER, enter_ts 0',
  );
  const getppid = exits.filter((r) => nr(r) === NR_GETPPID);
  t.equal(getppid.length, 100, '100 getppid exits');
  t.ok(getppid.every((r) => r.readBigInt64LE(at(exitL, 'ret')) === BigInt(process.pid)), 'each returned our pid');
  t.ok(
    getppid.every((r) => {
      const enter = r.readBigUInt64LE(at(exitL, 'enter_ts_ns'));
      return r.readUInt16LE(2) === 0 && enter > 0n && r.readBigUInt64LE(8) > enter;
    }),
    'each with its entry time, before its exit time',
  );
  t.equal(sysCounters.length, ET_SYSCALL_MAX * nrCpus * COUNTER_SIZE, 'sys_counters: [nr][cpu][24 bytes]');
  let sent = 0n;
  for (let cpu = 0; cpu < nrCpus; cpu++) sent += sysCounters.readBigUInt64LE((NR_GETPPID * nrCpus + cpu) * COUNTER_SIZE);
  t.ok(sent >= 100n, `sys_counters[getppid].sent ${sent} >= 100`);

  const inFlight = [];
  for (let i = 0; i < stash.count; i++) {
    const v = stash.values.subarray(i * stash.valueSize, (i + 1) * stash.valueSize);
    if (stash.keys.readUInt32LE(i * 4) !== child.pid) continue;
    inFlight.push([v.readUInt32LE(at(stashL, 'in_call')), v.readUInt32LE(at(stashL, 'nr')), v.readBigUInt64LE(at(stashL, 'enter_ts')) > 0n]);
  }
  t.same(inFlight, [[1, NR_READ, true]], "sys_stash at stop: the child's second read, still in progress");
});

function clangMissing(): string | undefined {
  const r = spawnSync('clang', ['--version'], { encoding: 'utf8' });
  return r.error || r.status !== 0 ? 'clang not found (needed to build test/progs/native_faults.bpf.c)' : undefined;
}

const KERNEL_CLANG = KERNEL ?? clangMissing();

function compileFaults(dir: string, define?: string): string {
  const out = join(dir, `faults${define ?? ''}.bpf.o`);
  const args = ['-O2', '-g', '-target', 'bpf', ...(define ? [define] : []), '-c', FAULTS_SRC, '-o', out];
  const r = spawnSync('clang', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`clang ${args.join(' ')}: ${r.stderr.trim()}`);
  return out;
}

gated('kernel: a verifier rejection names the program and ends with the verifier log', KERNEL_CLANG, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'exectrace-native-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const obj = compileFaults(dir, '-DREJECT');
  let message = '';
  try {
    openTracer({ object: obj }).close();
    t.fail('the verifier accepted et_test_reject');
  } catch (err) {
    message = (err as Error).message;
  }
  const lines = message.split('\n');
  t.equal(lines[0], 'load bpf object: Permission denied');
  t.equal(lines[1], "  prog 'et_test_reject': BPF program load failed: Permission denied");
  t.ok(lines.length <= 2 + 5, 'at most 5 verifier lines');
  t.ok(lines.includes("  R0 invalid mem access 'scalar'"), 'the verifier says why');
  t.same(bpfFds(), [], 'nothing left open');
});

gated('kernel: an attach failure names the program and detaches the others', KERNEL_CLANG, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'exectrace-native-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const obj = compileFaults(dir);
  const tracer = openTracer({ object: obj });
  t.teardown(() => tracer.close());
  t.throws(() => tracer.attach(), /^attach et_test_noattach: No such file or directory\n/);
  t.same(
    bpfFds().filter((f) => f.kind === 'bpf_link'),
    [],
    'et_test_attaches was detached again',
  );
  tracer.close();
  t.same(bpfFds(), [], 'nothing left open');
});
