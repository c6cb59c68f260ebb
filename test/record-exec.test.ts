// Kernel tests: `exectrace record` while test/progs/scenarios.js runs known process
// activity, then `decode --json` and `stats --json` on the file; every scenario's events are
// asserted field by field, and the execs are cross-checked against execsnoop (libbpf-tools).

import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {spawn, spawnSync} from 'node:child_process';
import {BIN, CI, ROOT, kernelTest} from './lib/kernel';

type Ev = Record<string, any>;

const EXECER = path.join(ROOT, 'test', 'progs', 'execer.out');
const SCENARIOS = path.join(ROOT, 'test', 'progs', 'scenarios.js');

function cli(args: string[]): {stdout: string; stderr: string; status: number | null} {
  const r = spawnSync(process.execPath, [BIN, ...args], {encoding: 'utf8', maxBuffer: 256 * 1024 * 1024});
  return {stdout: r.stdout, stderr: r.stderr, status: r.status};
}

interface Execsnoop {
  stop(): Promise<string>;
}

/** execsnoop -x from libbpf-tools, started and ready (its header printed) before we go on. */
async function startExecsnoop(): Promise<Execsnoop | string> {
  if (spawnSync('sh', ['-c', 'command -v execsnoop && command -v stdbuf']).status !== 0) return 'execsnoop (libbpf-tools) or stdbuf not installed';
  const p = spawn('stdbuf', ['-oL', 'execsnoop', '-x', '--max-args', '60'], {stdio: ['ignore', 'pipe', 'pipe']});
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (err += d));
  const ready = await new Promise<boolean>((resolve) => {
    const iv = setInterval(() => {
      if (out.includes('PCOMM')) {
        clearInterval(iv);
        resolve(true);
      }
    }, 50);
    p.on('exit', () => {
      clearInterval(iv);
      resolve(false);
    });
    setTimeout(() => {
      clearInterval(iv);
      resolve(out.includes('PCOMM'));
    }, 20000);
  });
  if (!ready) return `execsnoop did not start: ${err.trim().split('\n').pop()}`;
  return {
    stop: () =>
      new Promise<string>((resolve) => {
        p.on('exit', () => resolve(out));
        p.kill('SIGINT');
      }),
  };
}

kernelTest(t, 'kernel: record exec, exec_failed, fork and exit of known scenarios', async (t) => {
  const dir = t.testdir();
  const trace = path.join(dir, 'trace.bin');
  const manifestPath = path.join(dir, 'manifest.json');
  t.ok(fs.existsSync(EXECER), 'test/progs/execer.out is built (make progs)');

  const snoop = await startExecsnoop();
  if (typeof snoop === 'string') {
    if (CI) t.fail(snoop);
    else t.comment(`skipping the execsnoop cross-check: ${snoop}`);
  }

  const rec = cli(['record', '--raw', '-o', trace, '--', process.execPath, SCENARIOS, manifestPath]);
  const snoopOut = typeof snoop === 'string' ? null : await snoop.stop();
  t.equal(rec.status, 0, `record exits 0 (stderr: ${rec.stderr.trim()})`);
  t.match(rec.stderr, /recorded \d+ events in [\d.]+s \(.*exec \d+.*\); lost 0; .*trace\.bin: \d+ bytes in \d+ chunks \(command exited\)/, 'record prints a summary on stop');
  t.equal(fs.statSync(trace).mode & 0o777, 0o600, 'the trace file is created 0600');
  const m = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));

  const dec = cli(['decode', trace, '--json']);
  t.equal(dec.status, 0, `decode exits 0 (stderr: ${dec.stderr.trim()})`);
  const events: Ev[] = dec.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const of = (type: string, pid: number) => events.filter((e) => e.type === type && e.pid === pid);
  const one = (type: string, pid: number, what: string): Ev => {
    const found = of(type, pid);
    t.equal(found.length, 1, `one ${type} event for ${what} (pid ${pid})`);
    return found[0] ?? {};
  };

  // Every event carries the common fields of the event model.
  for (const e of events.filter((x) => x.type !== 'process' && x.type !== 'lost').slice(0, 50)) {
    for (const k of ['time', 'ts_ns', 'pid', 'tid', 'ppid', 'uid', 'gid', 'comm', 'euid', 'egid', 'loginuid', 'sessionid', 'cgroup_id', 'ns']) {
      if (!(k in e)) t.fail(`${e.type} event lacks ${k}`);
    }
    t.match(e.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  }

  t.test('process snapshot', async (t) => {
    const init = events.find((e) => e.type === 'process' && e.pid === 1);
    t.ok(init, 'pid 1 is in the snapshot of processes alive at start');
    t.equal(init?.ppid, 0);
    t.type(init?.start_time, 'string');
  });

  t.test('exact argv: empty strings, spaces, non-ASCII, newlines', async (t) => {
    const e = one('exec', m.odd.pid, 'odd argv');
    t.same(e.argv, m.odd.argv, 'argv is exact');
    t.equal(e.argc, m.odd.argv.length);
    t.equal(e.truncated, false);
    t.equal(e.filename, EXECER);
    t.equal(e.comm, 'execer.out');
    t.equal(e.uid, 0);
    t.equal(e.ppid, m.driver);
    t.equal(e.parent_comm, 'node');
    t.equal(e.tid, e.pid);
    const x = one('exit', m.odd.pid, 'odd argv');
    t.equal(x.exit_code, 0);
    t.equal(x.signal, null);
    t.same(x.argv, m.odd.argv, 'exit carries the last argv');
  });

  t.test('hundreds of arguments', async (t) => {
    const e = one('exec', m.many.pid, '202 args');
    t.same(e.argv, m.many.argv);
    t.equal(e.truncated, false);
    const cut = one('exec', m.toomany.pid, '403 args');
    t.equal(cut.argc, 403, 'argc is the real count');
    t.equal(cut.argv.length, 256, 'argv is cut at --max-args (256)');
    t.same(cut.argv, m.toomany.argv.slice(0, 256));
    t.equal(cut.truncated, true);
  });

  t.test('failed exec', async (t) => {
    const e = one('exec_failed', m.fail.pid, 'execve of a missing file');
    t.equal(e.filename, '/nonexistent/exectrace-test');
    t.same(e.argv, ['/nonexistent/exectrace-test', 'x', 'y z']);
    t.equal(e.error_code, -2);
    t.equal(e.errno, 'ENOENT');
    t.equal(e.syscall, 'execve');
    t.equal(m.fail.errno, 2, 'the program saw ENOENT too');
    t.equal(one('exit', m.fail.pid, 'failed exec').exit_code, 3);
  });

  t.test('execveat', async (t) => {
    // The pid execs twice: execer itself, then `true` through execveat.
    const both = of('exec', m.execveat.pid);
    t.equal(both.length, 2, 'two execs for the execveat scenario');
    t.same(both[0]?.argv, m.execveat.argv);
    const e = both[1] ?? {};
    t.same(e.argv, ['true', 'from-execveat', 'second arg']);
    t.match(e.filename, /^\/dev\/fd\/\d+\/true$/, 'filename as the kernel saw it');
    t.equal(e.comm, 'true');
    t.equal(one('exit', m.execveat.pid, 'execveat').exit_code, 0);
  });

  t.test('fork without exec, non-zero exits', async (t) => {
    const f = one('fork', m.fork.child, 'forked child');
    t.equal(f.ppid, m.fork.pid, 'ppid is the parent');
    t.equal(f.tid, m.fork.child);
    t.equal(f.comm, 'execer.out', 'a child has its parent\'s comm until it execs');
    t.equal(of('exec', m.fork.child).length, 0, 'the child never execs');
    const x = one('exit', m.fork.child, 'forked child');
    t.equal(x.exit_code, 7);
    t.same(x.argv, m.fork.argv, 'the child\'s last known argv is its parent\'s image');
    t.equal(one('exit', m.exit42.pid, 'exit 42').exit_code, 42);
  });

  t.test('killed process', async (t) => {
    const x = one('exit', m.killed.pid, 'sleep killed by SIGKILL');
    t.equal(x.signal, 9);
    t.equal(x.exit_code, 0);
    t.equal(x.core_dumped, false);
    t.same(x.argv, ['/bin/sleep', '30']);
    t.ok(x.running_time_ns >= 150e6, `running_time_ns (${x.running_time_ns}) covers the 200 ms before the kill`);
  });

  t.test('exec from a non-leader thread reports the thread-group id', async (t) => {
    const both = of('exec', m.thread.pid);
    t.equal(both.length, 2, 'two execs: execer, then echo from its second thread');
    const e = both[1] ?? {};
    t.equal(e.tid, m.thread.pid);
    t.equal(e.old_tid, m.thread.tid, 'old_tid is the thread that called execve');
    t.not(m.thread.tid, m.thread.pid);
    t.same(e.argv, ['/bin/echo', 'exec from a thread']);
    const exits = of('exit', m.thread.pid);
    t.equal(exits.length, 1, 'one exit, after the exec');
    t.same(exits[0]?.argv, ['/bin/echo', 'exec from a thread']);
  });

  t.test('stats: sent = recorded, nothing lost', async (t) => {
    const s = cli(['stats', trace, '--json']);
    t.equal(s.status, 0);
    const r = JSON.parse(s.stdout);
    t.equal(r.complete, true);
    for (const row of r.types) {
      t.equal(row.sent, row.recorded, `${row.event}: sent = recorded`);
      t.equal(row.lost, 0, `${row.event}: lost 0`);
    }
    const execs = r.types.find((x: Ev) => x.event === 'exec');
    t.ok(execs.recorded >= 8, 'at least the scenarios\' execs');
    t.ok(r.failed_execs.some((f: Ev) => f.errno === 'ENOENT'));
  });

  if (snoopOut !== null) {
    t.test('cross-check with execsnoop -x (libbpf-tools)', async (t) => {
      // execsnoop reads argv at syscall entry and prints it space-joined: compare the
      // execve scenarios whose argv has no newline (execsnoop does not trace execveat).
      const lines = snoopOut.split('\n');
      const row = (pid: number, ret: number): string | undefined =>
        lines.find((l) => {
          const f = l.trim().split(/\s+/);
          return Number(f[1]) === pid && Number(f[3]) === ret;
        });
      for (const name of ['many', 'fail', 'exit42', 'fork', 'thread']) {
        const s = m[name];
        const ret = name === 'fail' ? -2 : 0;
        const r = row(s.pid, ret);
        t.ok(r, `execsnoop saw pid ${s.pid} (${name}) with ret ${ret}`);
        const ours = of(name === 'fail' ? 'exec_failed' : 'exec', s.pid)[0] ?? {argv: []};
        const args = r?.trim().split(/\s+/).slice(4).join(' ');
        // execsnoop shows at most 60 arguments and marks the rest with "...".
        const expect = ours.argv.slice(0, 60).join(' ') + (ours.argv.length > 60 ? ' ...' : '');
        t.equal(args, expect, `argv of ${name} agrees with execsnoop`);
      }
    });
  }
});
