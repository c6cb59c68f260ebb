// stats shows event types a user can filter by (issue 11): syscall calls are one `syscall`
// row of the EVENT table, and the records behind them (sys_enter, sys_exit, task, which no
// flag names) are a note line, not rows; JSON keeps both views.

import t from 'tap';
import {cli, lines} from './lib/cli';
import {EVENT_TYPES} from '../src/filter';

const CAT = 'fixtures/syscalls-cat.bin';
const EXEC = 'fixtures/exec-scenarios.bin';

/** The EVENT table's rows, first column. */
function rows(out: string): string[] {
  const l = lines(out);
  const at = l.findIndex((x) => x.startsWith('EVENT '));
  const names: string[] = [];
  for (let i = at + 1; i < l.length && /^[a-z_]+\s+[\d-]+\s+\d+\s+\d+/.test(l[i]); i++) names.push(l[i].split(/\s+/)[0]);
  return names;
}

t.test('the EVENT table names only event types; syscalls are one row', async (t) => {
  const r = await cli(['stats', CAT], {TZ: 'UTC'});
  t.equal(r.status, 0);
  t.same(rows(r.stdout), ['exec', 'exec_failed', 'fork', 'exit', 'syscall']);
  for (const name of rows(r.stdout)) t.ok((EVENT_TYPES as readonly string[]).includes(name), `--type ${name} exists`);
  t.match(r.stdout, /^syscall\s+65\s+65\s+0$/m, 'sent: the exit records; recorded: the calls');
  t.match(r.stdout, /^records {4}65 syscall calls from 102 records: 65 sys_exit, 34 sys_enter \(inputs\), 3 task \(thread context\)$/m);
  t.notMatch(r.stdout, /^(sys_enter|sys_exit|task)\s/m, 'no row for an internal record type');
  // The syscall row agrees with the per-syscall table's total.
  t.match(r.stdout, /^100\.00\s+\S+\s+\S+\s+65\s+13\s+65\s+0\s+0\s+total$/m);
  // A filter: the row counts matching calls.
  const f = await cli(['stats', '--syscall', 'openat', CAT]);
  t.match(f.stdout, /^syscall\s+65\s+34\s+0$/m);
  t.match(f.stdout, /^records {4}34 syscall calls from \d+ records: 34 sys_exit, /m);
});

t.test('a recording without syscalls has neither row nor note', async (t) => {
  const r = await cli(['stats', EXEC]);
  t.same(rows(r.stdout), ['exec', 'exec_failed', 'fork', 'exit']);
  t.notMatch(r.stdout, /^records /m);
});

t.test('JSON: events by type a user can name, and types by record', async (t) => {
  const j = JSON.parse((await cli(['stats', '--json', CAT])).stdout);
  t.same(j.events.map((x: {event: string}) => x.event), ['exec', 'exec_failed', 'fork', 'exit', 'syscall']);
  t.same(j.events.find((x: {event: string}) => x.event === 'syscall'), {event: 'syscall', sent: 65, recorded: 65, lost: 0, filtered: null});
  t.same(j.types.map((x: {event: string}) => x.event), ['exec', 'exec_failed', 'fork', 'exit', 'sys_enter', 'sys_exit', 'task']);
});
