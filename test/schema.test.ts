// decode --schema ecs|ocsf (src/schema): every field written is one the standard defines,
// with the type it defines, checked against tables below taken from the standards' own
// definitions (ECS 8.x field reference: schemas/*.yml of elastic/ecs; OCSF 1.5: the
// process_activity class, the base event and the process, file, user, device, os,
// metadata and product objects of ocsf/ocsf-schema). Fields outside the standard are only
// under `exectrace` (ECS custom field set) or `unmapped` (OCSF).

import t from 'tap';
import {cli, lines} from './lib/cli';
import {mapEvent, toEcs, toOcsf, type TraceEvent} from '../src';

type Kind = 'keyword' | 'long' | 'date' | 'keyword[]' | 'ip' | 'integer' | 'string' | 'timestamp_t' | 'object[]';

/** ECS fields this mapping may write, with their ECS types. */
const ECS: Record<string, Kind> = {
  '@timestamp': 'date', 'ecs.version': 'keyword',
  'host.name': 'keyword', 'host.hostname': 'keyword', 'host.architecture': 'keyword', 'host.boot.id': 'keyword',
  'host.os.type': 'keyword', 'host.os.kernel': 'keyword', 'agent.type': 'keyword', 'agent.version': 'keyword',
  'user.id': 'keyword', 'group.id': 'keyword', 'container.id': 'keyword',
  'event.kind': 'keyword', 'event.category': 'keyword[]', 'event.type': 'keyword[]', 'event.action': 'keyword',
  'event.outcome': 'keyword', 'event.duration': 'long', 'event.module': 'keyword', 'event.dataset': 'keyword',
  'process.pid': 'long', 'process.name': 'keyword', 'process.thread.id': 'long', 'process.entity_id': 'keyword',
  'process.parent.pid': 'long', 'process.parent.entity_id': 'keyword', 'process.parent.name': 'keyword',
  'process.user.id': 'keyword', 'process.real_user.id': 'keyword', 'process.group.id': 'keyword', 'process.real_group.id': 'keyword',
  'process.args': 'keyword[]', 'process.args_count': 'long', 'process.command_line': 'keyword', 'process.executable': 'keyword',
  'process.working_directory': 'keyword', 'process.hash.sha256': 'keyword', 'process.start': 'date', 'process.end': 'date',
  'process.exit_code': 'long', 'error.code': 'keyword', 'error.message': 'keyword', 'file.path': 'keyword',
  'destination.ip': 'ip', 'destination.port': 'long', 'source.ip': 'ip', 'source.port': 'long', 'network.type': 'keyword',
};

/** ECS's allowed values for the categorization fields (event.yml). */
const KINDS = ['alert', 'asset', 'enrichment', 'event', 'metric', 'state', 'pipeline_error', 'signal'];
const CATEGORIES = ['process', 'file', 'network'];
const TYPES = ['access', 'change', 'connection', 'creation', 'deletion', 'end', 'info', 'start'];

/** OCSF attributes this mapping may write (outside `unmapped`), with their OCSF types. */
const OCSF: Record<string, Kind> = {
  class_uid: 'integer', class_name: 'string', category_uid: 'integer', category_name: 'string', activity_id: 'integer',
  activity_name: 'string', type_uid: 'long', type_name: 'string', time: 'timestamp_t', severity_id: 'integer', severity: 'string',
  status_id: 'integer', status: 'string', status_code: 'string', status_detail: 'string', message: 'string', duration: 'long',
  exit_code: 'integer', launch_type_id: 'integer', launch_type: 'string',
  'metadata.version': 'string', 'metadata.log_name': 'string', 'metadata.product.name': 'string', 'metadata.product.vendor_name': 'string',
  'metadata.product.version': 'string',
  'device.hostname': 'string', 'device.type_id': 'integer', 'device.type': 'string', 'device.boot_uid': 'string',
  'device.os.name': 'string', 'device.os.type_id': 'integer', 'device.os.type': 'string', 'device.os.version': 'string',
  'device.os.cpu_bits': 'integer', 'actor.user.uid': 'string',
};
for (const p of ['process', 'actor.process', 'process.parent_process', 'actor.process.parent_process']) {
  Object.assign(OCSF, {
    [`${p}.pid`]: 'integer', [`${p}.tid`]: 'integer', [`${p}.uid`]: 'string', [`${p}.name`]: 'string', [`${p}.cmd_line`]: 'string',
    [`${p}.created_time`]: 'timestamp_t', [`${p}.terminated_time`]: 'timestamp_t', [`${p}.user.uid`]: 'string',
    [`${p}.file.path`]: 'string', [`${p}.file.name`]: 'string', [`${p}.file.type_id`]: 'integer', [`${p}.file.type`]: 'string',
    [`${p}.file.hashes`]: 'object[]',
  });
}

/** Leaf paths of an object (arrays are leaves), except under `skip`. */
function leaves(o: Record<string, unknown>, skip: string, prefix = ''): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const [k, v] of Object.entries(o)) {
    const p = prefix ? `${prefix}.${k}` : k;
    if (p === skip) continue;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) out.push(...leaves(v as Record<string, unknown>, skip, p));
    else out.push([p, v]);
  }
  return out;
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;

function typeOk(kind: Kind, v: unknown): boolean {
  switch (kind) {
    case 'keyword': case 'string': return typeof v === 'string';
    case 'long': case 'integer': return Number.isSafeInteger(v);
    case 'date': return typeof v === 'string' && ISO.test(v);
    case 'keyword[]': return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'ip': return typeof v === 'string' && (/^\d+\.\d+\.\d+\.\d+$/.test(v) || v.includes(':'));
    case 'timestamp_t': return Number.isSafeInteger(v) && (v as number) > 1.5e12 && (v as number) < 4e12;
    case 'object[]': return Array.isArray(v) && v.every((x) => x && typeof x === 'object');
  }
}

const FIXTURES = ['fixtures/exec-tree.bin', 'fixtures/syscalls-net.bin', 'fixtures/syscalls-cat.bin', 'fixtures/exec-lossy.bin'];

t.test('ECS: every field is an ECS field of its ECS type; categorization values are ECS\'s', async (t) => {
  const seen = new Set<string>();
  let n = 0;
  for (const f of FIXTURES) {
    const r = await cli(['decode', '--schema', 'ecs', f]);
    t.equal(r.status, 0, f);
    for (const l of lines(r.stdout)) {
      const e = JSON.parse(l);
      n++;
      for (const [p, v] of leaves(e, 'exectrace')) {
        seen.add(p);
        if (!(p in ECS)) t.fail(`${f}: ${p} is not an ECS field this mapping knows`);
        else if (!typeOk(ECS[p], v)) t.fail(`${f}: ${p} = ${JSON.stringify(v)} is not ${ECS[p]}`);
      }
      if (!KINDS.includes(e.event.kind)) t.fail(`event.kind ${e.event.kind}`);
      for (const c of e.event.category ?? []) if (!CATEGORIES.includes(c)) t.fail(`event.category ${c}`);
      for (const c of e.event.type ?? []) if (!TYPES.includes(c)) t.fail(`event.type ${c}`);
      if (typeof e.exectrace?.type !== 'string') t.fail('exectrace.type');
    }
  }
  t.ok(n > 500, `${n} events checked`);
  for (const p of ['@timestamp', 'process.entity_id', 'process.pid', 'process.args', 'process.executable', 'process.working_directory',
    'process.parent.pid', 'process.parent.entity_id', 'user.id', 'host.name', 'event.category', 'event.type', 'event.action',
    'event.kind', 'process.exit_code', 'destination.ip', 'file.path']) t.ok(seen.has(p), `written somewhere: ${p}`);
});

t.test('ECS: the exact mapping of an exec, an exit, a failed exec, a connect and an openat', async (t) => {
  const ev = async (f: string, ...args: string[]) => JSON.parse(lines((await cli(['decode', '--schema', 'ecs', ...args, f])).stdout)[0]);
  const exec = await ev('fixtures/exec-tree.bin', '--type', 'exec');
  t.equal(exec['@timestamp'], '2026-12-06T19:11:34.817438702Z');
  t.same(exec.event, {kind: 'event', module: 'exectrace', dataset: 'exectrace.exec', category: ['process'], type: ['start'], action: 'exec', outcome: 'success'});
  t.same(exec.process.args, ['sh', 'test/progs/tree-workload.sh']);
  t.equal(exec.process.entity_id, '512ae60198224a37:18170:541503304347:6');
  t.equal(exec.process.parent.entity_id, '512ae60198224a37:18158:541086270483:5');
  t.equal(exec.process.parent.pid, 18158);
  t.equal(exec.process.executable, '/usr/bin/sh');
  t.equal(exec.process.working_directory, '/work/main');
  t.equal(exec.host.name, 'vm');
  t.equal(exec.user.id, '0');
  const exit = await ev('fixtures/exec-tree.bin', '--type', 'exit');
  t.same(exit.event.type, ['end']);
  t.equal(exit.process.exit_code, 0);
  const failed = await ev('fixtures/exec-tree.bin', '--type', 'exec_failed');
  t.equal(failed.event.outcome, 'failure');
  t.equal(failed.error.code, 'ENOENT');
  const connect = await ev('fixtures/syscalls-net.bin', '--syscall', 'connect');
  t.same(connect.event.category, ['network']);
  t.same(connect.destination, {ip: '127.0.0.1', port: 60909});
  t.equal(connect.exectrace.syscall.name, 'connect');
  const open = await ev('fixtures/syscalls-cat.bin', '--syscall', 'openat');
  t.same([open.event.category, open.event.type, open.file.path], [['file'], ['access'], '/proc/1678/status']);
  t.equal(open.exectrace.syscall.sym.dfd, 'AT_FDCWD');
});

t.test('OCSF: Process Activity with its required attributes; every attribute is OCSF\'s, of its type', async (t) => {
  let n = 0;
  const activities = new Set<string>();
  for (const f of FIXTURES) {
    const r = await cli(['decode', '--schema', 'ocsf', f]);
    t.equal(r.status, 0, f);
    for (const l of lines(r.stdout)) {
      const e = JSON.parse(l);
      n++;
      for (const [p, v] of leaves(e, 'unmapped')) {
        if (!(p in OCSF)) t.fail(`${f}: ${p} is not an OCSF attribute this mapping knows`);
        else if (!typeOk(OCSF[p], v)) t.fail(`${f}: ${p} = ${JSON.stringify(v)} is not ${OCSF[p]}`);
      }
      t.equal(e.type_uid, e.class_uid * 100 + e.activity_id, 'type_uid = class_uid * 100 + activity_id');
      if (e.class_uid === 1007) {
        activities.add(`${e.unmapped.type}:${e.activity_id}:${e.launch_type_id ?? ''}`);
        for (const k of ['activity_id', 'category_uid', 'class_uid', 'type_uid', 'time', 'severity_id', 'metadata', 'actor', 'device', 'process']) {
          if (e[k] === undefined) t.fail(`${f}: required ${k} missing`);
        }
        if (e.category_uid !== 1) t.fail('category System Activity');
      } else if (e.class_uid !== 0) t.fail(`class ${e.class_uid}`);
      if (typeof e.unmapped.ts_ns !== 'number') t.fail('unmapped.ts_ns');
    }
  }
  t.ok(n > 500, `${n} events checked`);
  t.same([...activities].sort(), ['exec:1:3', 'exec_failed:1:3', 'exit:2:', 'fork:1:2', 'process:99:'],
    'exec and fork are Launch (launch_type Exec, Fork), exit Terminate, the snapshot Other');
});

t.test('library: mapEvent, toEcs and toOcsf on an event object', async (t) => {
  const e = {
    type: 'exit', time: '2026-12-06T19:11:34.820195793Z', ts_ns: 541506568856, pid: 7, tid: 7, ppid: 1, uid: 1000, gid: 1000,
    euid: 0, egid: 0, loginuid: 1000, sessionid: 3, comm: 'su', exec_id: 'b:7:1:2', parent_exec_id: 'b:1:0:1', exit_code: 1,
    signal: null, core_dumped: false, running_time_ns: 5, nr_threads: 1, filename: '/usr/bin/su', argv: ['su', '-'],
  } as unknown as TraceEvent;
  const ecs = toEcs(e, {hostname: 'db-1'});
  t.same(mapEvent(e, 'ecs', {hostname: 'db-1'}), ecs);
  t.equal((ecs.process as {user: {id: string}}).user.id, '0', 'process.user is the effective user');
  t.equal((ecs.process as {real_user: {id: string}}).real_user.id, '1000', 'process.real_user the real one');
  t.equal((ecs.process as {command_line: string}).command_line, "su -");
  const o = toOcsf(e, {hostname: 'db-1', version: '0.1.0'});
  t.equal(o.time, 1796584294820, 'time: integer ms');
  t.same([o.class_uid, o.activity_id, o.type_uid, o.exit_code], [1007, 2, 100702, 1]);
  t.same((o.actor as {process: {pid: number}}).process.pid, 7, 'an exit\'s actor is the process itself');
  const accept = toEcs({
    type: 'syscall', time: '2026-12-06T19:11:34.820195793Z', ts_ns: 1, pid: 7, tid: 7, ppid: 1, uid: 0, gid: 0, euid: 0, egid: 0,
    comm: 'nginx', syscall: 'accept4', nr: 288, args: {fd: 3, upeer_sockaddr: {family: 'AF_INET6', addr: '2001:db8::1', port: 40000}},
    ret: 5, duration_ns: 10,
  } as unknown as TraceEvent);
  t.same([accept.source, accept.destination, accept.network], [{ip: '2001:db8::1', port: 40000}, undefined, {type: 'ipv6'}], 'who came in is the source');
  t.same(o.metadata, {version: '1.5.0', product: {name: 'exectrace', vendor_name: 'exectrace', version: '0.1.0'}, log_name: 'exectrace'});
});

t.test('--schema with a table or --fields is refused in one line', async (t) => {
  const a = await cli(['decode', '--schema', 'ecs', '--format', 'csv', 'fixtures/exec-tree.bin']);
  t.equal(a.status, 2);
  t.equal(a.stderr, 'exectrace decode: --schema ecs maps JSON events: it goes with --json, not --format csv\n');
  const b = await cli(['decode', '--schema', 'ocsf', '--fields', 'pid', 'fixtures/exec-tree.bin']);
  t.equal(b.status, 2);
  const c = await cli(['decode', '--schema', 'cef', 'fixtures/exec-tree.bin']);
  t.equal(c.status, 2);
  t.match(c.stderr, /--schema: expected one of ecs, ocsf, got "cef"/);
});

t.test('--schema over files of two hosts names each host', async (t) => {
  // The same file twice is one host: host.name is the file's either way.
  const r = await cli(['decode', '--schema', 'ecs', '--type', 'exec', 'fixtures/exec-tree.bin', 'fixtures/exec-scenarios.bin']);
  t.equal(r.status, 0);
  t.ok(lines(r.stdout).every((l) => JSON.parse(l).host.name === 'vm'));
});
