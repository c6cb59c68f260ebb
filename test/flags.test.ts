// Flags, offline: the symbolic form of syscall arguments in JSON (`sym`, src/decode/
// symbolic.ts) and --where's bitwise `&`, `|` and constants (src/filter/expr.ts), against
// the names human output shows for the same calls (fixtures/syscalls-cat.bin: cat's
// openat, mmap, ... recorded with their arguments).

import t from 'tap';
import {compileWhere} from '../src/filter';
import {openTrace, type TraceEvent} from '../src';
import {constantNames, constantValue, formatStyled} from '../src/decode/constants';
import {cli, lines} from './lib/cli';

const CAT = 'fixtures/syscalls-cat.bin';

const where = (src: string, arch = 'x86_64') => compileWhere(src, {
  constant: (n) => constantValue(n, arch), constantNames: () => constantNames(arch),
});

t.test('sym: the symbolic form of every argument that has one, beside the numbers, as human lines show it', async (t) => {
  const evs = [...openTrace(CAT, {processes: false, type: ['syscall']})] as TraceEvent[];
  const opens = evs.filter((e) => e.syscall === 'openat');
  t.ok(opens.length > 10);
  for (const e of opens) {
    const args = e.args as Record<string, number>;
    t.same(e.sym, {dfd: 'AT_FDCWD', flags: formatStyled('o_flags', args.flags), mode: formatStyled('mode', args.mode)});
  }
  const cloexec = opens.find((e) => (e.args as Record<string, number>).flags === 524288) as TraceEvent;
  t.ok(cloexec, 'args keep the number');
  t.equal((cloexec.sym as Record<string, string>).flags, 'O_RDONLY|O_CLOEXEC');
  // The same text as the human line, argument by argument.
  const human = lines((await cli(['decode', CAT, '--no-processes', '--syscall', 'openat'])).stdout);
  human.forEach((l, i) => t.match(l, `flags=${(opens[i].sym as Record<string, string>).flags}, mode=${(opens[i].sym as Record<string, string>).mode})`));
  const read = evs.find((e) => e.syscall === 'read') as TraceEvent;
  t.notOk('sym' in read, 'read: no argument has a symbolic form, no sym');
  // The direct JSON writer (no event objects) writes the same bytes as the objects.
  const json = lines((await cli(['decode', CAT, '--json', '--no-processes', '--syscall', 'openat'])).stdout).map((l) => JSON.parse(l));
  t.same(json.map((e) => e.sym), opens.map((e) => e.sym));
  t.same(Object.keys(json[0]).slice(-2), ['duration_ns', 'sym'], 'sym last');
});

t.test('--where: & and | on integers, exactly at 64 bits, tighter than comparisons; constants by name', async (t) => {
  const e = {args: {flags: 0o2101, prot: 5, big: 2n ** 63n + 5n, neg: -100, s: 'x'}};
  t.ok(where('args.flags & O_CREAT').test(e), 'a bit set: true');
  t.notOk(where('args.flags & O_EXCL').test(e), 'not set: 0, false');
  t.ok(where('args.flags & O_ACCMODE == O_WRONLY').test(e), '& before ==: the access mode');
  t.ok(where('args.flags & (O_CREAT | O_APPEND) == O_CREAT | O_APPEND').test(e), 'a parenthesized value');
  t.notOk(where('args.flags & (O_CREAT | O_APPEND) == O_CREAT').test(e));
  t.ok(where('(args.flags & O_ACCMODE) == O_WRONLY and (args.prot == 5 or args.prot == 6)').test(e), 'a value in parentheses, then a group of conditions');
  t.notOk(where('(args.flags & O_ACCMODE) == O_RDWR').test(e));
  t.ok(where('args.prot & PROT_EXEC and not args.prot & PROT_WRITE').test(e), 'r-x');
  t.ok(where('args.prot | PROT_WRITE == 7').test(e));
  t.ok(where('args.flags & O_CREAT | O_TRUNC == 0x240').test(e), '& binds tighter than |, as in C');
  t.ok(where('args.big & 0xff == 5').test(e), 'a bigint past 2^53, exactly');
  t.ok(where('args.big & 0x8000000000000000 == 0x8000000000000000').test(e));
  t.ok(where('args.neg == AT_FDCWD').test(e));
  t.ok(where('args.neg & 0xff == 156').test(e), 'negative values as two\'s complement');
  t.notOk(where('args.s & 1').test(e), 'a string: null, false');
  t.notOk(where('args.missing & 1 == 0').test(e), 'a missing field: null, never equal to 0');
  t.ok(where('O_WRONLY | O_CREAT == 65').test({}), 'two constants: folded');
  t.ok(where('args.flags in (O_RDONLY, 0o2101)').test(e), 'constants in a list');
});

t.test('--where: a constant equals a field that holds its name (a decoded value), and its number', async (t) => {
  t.ok(where('args.x == PROT_EXEC').test({args: {x: 'PROT_EXEC'}}), 'the name as a string');
  t.ok(where('args.x == PROT_EXEC').test({args: {x: 4}}), 'the number');
  t.notOk(where('args.x == PROT_EXEC').test({args: {x: 'PROT_READ'}}));
  t.ok(where('args.x != PROT_EXEC').test({args: {x: 'PROT_READ'}}));
  t.ok(where('args.x in (PROT_READ, PROT_EXEC)').test({args: {x: 'PROT_EXEC'}}));
});

t.test('--where: constants follow the file\'s architecture; unknown and ambiguous names are one-line errors', async (t) => {
  t.equal(constantValue('O_DIRECTORY', 'x86_64'), 0o200000);
  t.equal(constantValue('O_DIRECTORY', 'aarch64'), 0o40000, 'arm64 moves four bits');
  t.ok(where('args.flags & O_DIRECTORY', 'aarch64').test({args: {flags: 0o40000}}));
  t.notOk(where('args.flags & O_DIRECTORY', 'x86_64').test({args: {flags: 0o40000}}));
  t.equal(constantValue('MAP_32BIT', 'aarch64'), undefined, 'x86 only');
  t.throws(() => where('args.flags & O_CRAET'), {message: '--where: unknown constant O_CRAET (did you mean O_CREAT?) at column 14: args.flags & O_CRAET'});
  t.throws(() => where('args.flags & NOPE_NOTHING_LIKE_IT'), {message: /^--where: unknown constant NOPE_NOTHING_LIKE_IT at column 14/});
  t.throws(() => compileWhere('args.x == TWO', {constant: () => null}), {message: '--where: TWO has two values here: give the number at column 11: args.x == TWO'});
  t.throws(() => where('args.flags &'), {message: /^--where: expected a value at column 13/});
  t.throws(() => where('args.flags & & 1'), {message: /^--where: expected a value, found "&" at column 14/});
});

t.test('CLI: --where with flags on a recording, and sym in a --where', async (t) => {
  const a = await cli(['decode', CAT, '--no-processes', '--where', 'syscall == "openat" and args.flags & O_CLOEXEC and ret < 0']);
  t.equal(a.status, 0, a.stderr);
  const failed = lines(a.stdout);
  t.ok(failed.length > 0 && failed.every((l) => / openat\(.*O_CLOEXEC.*= -\d+ E/.test(l)), 'failed opens with O_CLOEXEC');
  const b = await cli(['decode', CAT, '--no-processes', '--where', 'sym.flags =~ /O_CLOEXEC/ and ret < 0']);
  t.equal(b.stdout, a.stdout, 'the same through sym');
});

t.test('sockets: families, types, protocols and options as sym and as --where constants (fixtures/syscalls-net.bin)', async (t) => {
  const NET = 'fixtures/syscalls-net.bin';
  t.equal(constantValue('AF_INET'), 2);
  t.equal(constantValue('AF_INET6'), 10);
  t.equal(constantValue('SOCK_CLOEXEC'), 0o2000000);
  t.equal(constantValue('IPPROTO_TCP'), 6);
  t.equal(constantValue('SOL_SOCKET'), 1);
  t.equal(constantValue('EPOLL_CTL_ADD'), 1);
  const evs = [...openTrace(NET, {processes: false, type: ['syscall']})] as TraceEvent[];
  const sockets = evs.filter((e) => e.syscall === 'socket');
  t.ok(sockets.length > 3);
  for (const e of sockets) {
    const a = e.args as Record<string, number>;
    const sym = e.sym as Record<string, string>;
    t.equal(sym.family, formatStyled('af', a.family));
    t.equal(sym.type, formatStyled('sock_type', a.type));
    t.equal(sym.protocol, formatStyled('sock_protocol', a.protocol, 'x86_64', a), 'the protocol named by the family');
  }
  const inet = sockets.filter((e) => (e.args as Record<string, number>).family === 2);
  t.ok(inet.length > 0);
  const byConst = await cli(['decode', NET, '--no-processes', '--json', '--where', 'syscall == "socket" && args.family == AF_INET']);
  t.equal(byConst.status, 0, byConst.stderr);
  t.same(lines(byConst.stdout).map((l) => JSON.parse(l).ts_ns), inet.map((e) => e.ts_ns));
  const byName = await cli(['decode', NET, '--no-processes', '--json', '--where', 'syscall == "socket" && sym.family == AF_INET']);
  t.equal(byName.stdout, byConst.stdout, 'a constant equals the field that holds its name (sym)');
  const cloexec = await cli(['decode', NET, '--no-processes', '--where', 'syscall == "socket" && args.type & SOCK_CLOEXEC']);
  t.ok(lines(cloexec.stdout).length > 0 && lines(cloexec.stdout).every((l) => /SOCK_CLOEXEC/.test(l)));
});
