// Offline: socket addresses from their bytes (src/decode/sockaddr.ts). The expected strings
// are strace 6.1's for the same bytes (strace -yy of python3 connecting, binding and
// receiving on this machine), and glibc inet_ntop's for the IPv6 forms (python3's
// socket.inet_ntop of the same bytes).

import t from 'tap';
import {decodeSockaddr, formatSockaddr, inet6} from '../src/decode/sockaddr';

/** A sockaddr from its family (host order, LE) and the bytes after it. */
function sa(family: number, rest: number[] | Buffer): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(family);
  return Buffer.concat([b, Buffer.from(rest)]);
}

function in4(port: number, a: number[]): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(2, 0);
  b.writeUInt16BE(port, 2);
  b.set(a, 4);
  return b;
}

function in6(port: number, addr: string, flowinfo = 0, scope = 0): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt16LE(10, 0);
  b.writeUInt16BE(port, 2);
  b.writeUInt32BE(flowinfo, 4);
  Buffer.from(addr.replace(/:/g, ''), 'hex').copy(b, 8);
  b.writeUInt32LE(scope, 24);
  return b;
}

t.test('AF_INET: object and strace form', async (t) => {
  const a = decodeSockaddr(in4(9, [127, 0, 0, 1]));
  t.strictSame(a, {family: 'AF_INET', addr: '127.0.0.1', port: 9});
  t.equal(formatSockaddr(a), '{sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("127.0.0.1")}');
  t.strictSame(decodeSockaddr(in4(443, [10, 0, 0, 5]).subarray(0, 8)), {family: 'AF_INET', addr: '10.0.0.5', port: 443}, 'the 8 bytes that matter suffice');
  t.strictSame(decodeSockaddr(in4(443, [10, 0, 0, 5]).subarray(0, 8), 16), {family: 'AF_INET', addr: '10.0.0.5', port: 443, truncated: true},
    'fewer bytes than its length: truncated');
});

t.test('AF_INET6: inet_ntop forms, flowinfo and scope id', async (t) => {
  const a = decodeSockaddr(in6(60907, '0000:0000:0000:0000:0000:0000:0000:0001'));
  t.strictSame(a, {family: 'AF_INET6', addr: '::1', port: 60907, flowinfo: 0, scope_id: 0});
  t.equal(formatSockaddr(a), '{sa_family=AF_INET6, sin6_port=htons(60907), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}');
  const ll = decodeSockaddr(in6(22, 'fe80:0000:0000:0000:0000:0000:0000:0001', 0x12345, 2));
  t.strictSame(ll, {family: 'AF_INET6', addr: 'fe80::1', port: 22, flowinfo: 0x12345, scope_id: 2});
  t.strictSame(decodeSockaddr(in6(1, '0000:0000:0000:0000:0000:0000:0000:0001').subarray(0, 24)),
    {family: 'AF_INET6', addr: '::1', port: 1, flowinfo: 0}, 'a 24-byte (RFC 2133) address has no scope id');
  const forms: [string, string][] = [
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000000000001', '::1'],
    ['00000000000000000000ffff7f000001', '::ffff:127.0.0.1'],
    ['00000000000000000000000001020304', '::1.2.3.4'],
    ['20010db8000000000000000000000001', '2001:db8::1'],
    ['00010000000000010000000000000001', '1:0:0:1::1'],
    ['00010000000000000001000000000001', '1::1:0:0:1'],
    ['00010002000300040005000600070008', '1:2:3:4:5:6:7:8'],
    ['00010000000200000003000000040000', '1:0:2:0:3:0:4:0'],
    ['fe800000000000000000000000000000', 'fe80::'],
    ['000000000000000000000000ffff0001', '::255.255.0.1'],
    ['00000000000000000000000000000002', '::2'],
  ];
  for (const [hex, want] of forms) t.equal(inet6(Buffer.from(hex, 'hex'), 0), want, want);
});

t.test('AF_UNIX: path, abstract name, unnamed', async (t) => {
  const path = decodeSockaddr(sa(1, Buffer.from('/run/nscd/socket\0')));
  t.strictSame(path, {family: 'AF_UNIX', path: '/run/nscd/socket'});
  t.equal(formatSockaddr(path), '{sa_family=AF_UNIX, sun_path="/run/nscd/socket"}');
  const abs = decodeSockaddr(sa(1, Buffer.from('\0abstract-x')));
  t.strictSame(abs, {family: 'AF_UNIX', abstract: 'abstract-x'});
  t.equal(formatSockaddr(abs), '{sa_family=AF_UNIX, sun_path=@"abstract-x"}');
  t.strictSame(decodeSockaddr(sa(1, Buffer.from('\0a\0b'))), {family: 'AF_UNIX', abstract: 'a\0b'}, 'an abstract name keeps its NULs');
  t.equal(formatSockaddr(decodeSockaddr(sa(1, Buffer.from('\0a\0b')))), '{sa_family=AF_UNIX, sun_path=@"a\\0b"}');
  const unnamed = decodeSockaddr(sa(1, []));
  t.strictSame(unnamed, {family: 'AF_UNIX'});
  t.equal(formatSockaddr(unnamed), '{sa_family=AF_UNIX}');
  const latin = decodeSockaddr(sa(1, Buffer.from([0x2f, 0x74, 0xe9, 0])));
  t.strictSame(latin, {family: 'AF_UNIX', path: {base64: Buffer.from([0x2f, 0x74, 0xe9]).toString('base64')}}, 'bytes that are not UTF-8 stay bytes');
  t.equal(formatSockaddr(latin), '{sa_family=AF_UNIX, sun_path="/t\\xe9"}');
  const full = decodeSockaddr(sa(1, Buffer.alloc(200, 0x61)));
  t.equal((full as {path: string}).path.length, 108, 'sun_path is at most 108 bytes');
});

t.test('AF_NETLINK, other families, and bytes too short for their family', async (t) => {
  const nl = sa(16, [0, 0, 0x39, 0x30, 0, 0, 1, 0, 0, 0]);
  t.strictSame(decodeSockaddr(nl), {family: 'AF_NETLINK', pid: 12345, groups: 1});
  t.equal(formatSockaddr(decodeSockaddr(nl)), '{sa_family=AF_NETLINK, nl_pid=12345, nl_groups=00000001}');
  const pk = sa(17, [0, 3, 2, 0, 0, 0]);
  t.strictSame(decodeSockaddr(pk), {family: 'AF_PACKET', base64: pk.toString('base64')});
  t.equal(formatSockaddr(decodeSockaddr(pk)), '{sa_family=AF_PACKET, sa_data="\\0\\3\\2\\0\\0\\0"}');
  t.strictSame(decodeSockaddr(sa(4242, [1])), {family: 4242, base64: sa(4242, [1]).toString('base64')}, 'a family without a name: its number');
  t.strictSame(decodeSockaddr(sa(2, [0, 80])), {family: 'AF_INET', base64: sa(2, [0, 80]).toString('base64')}, 'AF_INET in 4 bytes: its bytes');
  t.equal(formatSockaddr(decodeSockaddr(sa(2, [0, 80]), 16)), '{sa_family=AF_INET, sa_data="\\0P"...}');
  t.strictSame(decodeSockaddr(Buffer.from([2])), {family: null, base64: 'Ag=='}, 'one byte: not even a family');
  t.strictSame(decodeSockaddr(Buffer.alloc(0), 16), {family: null, base64: '', truncated: true});
  t.equal(formatSockaddr(decodeSockaddr(Buffer.alloc(0))), '{}');
});

t.test('any bytes give a value and a line', async (t) => {
  let seed = 7;
  const rnd = (k: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % k;
  const fams = [0, 1, 2, 10, 16, 17, 0xffff];
  for (let i = 0; i < 20000; i++) {
    const b = Buffer.alloc(rnd(140));
    for (let k = 0; k < b.length; k++) b[k] = rnd(256);
    if (b.length >= 2 && rnd(2) === 0) b.writeUInt16LE(fams[rnd(fams.length)]);
    const a = decodeSockaddr(b, rnd(200));
    const line = formatSockaddr(a);
    if (typeof line !== 'string' || !line.startsWith('{') || JSON.stringify(a) === undefined) {
      t.fail(`bytes ${b.toString('hex')}`);
      return;
    }
  }
  t.pass('20000 random addresses decoded and formatted');
});
