/* A test workload whose captures meet their limits, made with syscall(2) so that libc
 * cannot swap the calls for others:
 *   accept4 into a 4-byte address buffer (the kernel copies 4 bytes, returns 16),
 *   writev of 40 one-byte buffers (more than a capture describes),
 *   readv of 40 bytes into three 100-byte buffers (more than --bytes 16 keeps),
 *   poll of 70 pollfds (more than an array capture holds),
 *   recvmsg of a datagram into a 4-byte msg_name,
 *   select with n = 1100 over a 2048-bit set (more than an fd_set capture holds),
 *   epoll_wait returning nothing (a timeout of 0).
 * Prints "key=value" lines on stderr with what the calls saw, for the test. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static struct sockaddr_in loopback(void)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

int main(void)
{
	struct sockaddr_in srv = loopback(), dg = loopback();
	socklen_t len = sizeof(srv);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	bind(s, (struct sockaddr *)&srv, sizeof(srv));
	listen(s, 1);
	getsockname(s, (struct sockaddr *)&srv, &len);
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	connect(c, (struct sockaddr *)&srv, sizeof(srv));

	unsigned char small[4] = {0};
	socklen_t small_len = sizeof(small);
	long a = syscall(SYS_accept4, s, small, &small_len, 0);

	struct iovec v[40];
	char one[40];
	for (int i = 0; i < 40; i++) {
		one[i] = 'A' + (i % 26);
		v[i].iov_base = &one[i];
		v[i].iov_len = 1;
	}
	long wv = syscall(SYS_writev, c, v, 40);

	char r0[100], r1[100], r2[100];
	struct iovec r[3] = {{r0, sizeof(r0)}, {r1, sizeof(r1)}, {r2, sizeof(r2)}};
	long rv = syscall(SYS_readv, a, r, 3);

	struct pollfd p[70];
	for (int i = 0; i < 70; i++) {
		p[i].fd = (int)a;
		p[i].events = POLLOUT;
		p[i].revents = 0;
	}
	long pl = syscall(SYS_poll, p, 70, 0);

	int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), u2 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	len = sizeof(dg);
	bind(u, (struct sockaddr *)&dg, sizeof(dg));
	getsockname(u, (struct sockaddr *)&dg, &len);
	sendto(u2, "dgram", 5, 0, (struct sockaddr *)&dg, sizeof(dg));
	unsigned char name[4] = {0};
	char data[16];
	struct iovec d = {data, sizeof(data)};
	struct msghdr m = {.msg_name = name, .msg_namelen = sizeof(name), .msg_iov = &d, .msg_iovlen = 1};
	long rm = syscall(SYS_recvmsg, u, &m, 0);

	fd_set big[2];
	memset(big, 0, sizeof(big));
	FD_SET((int)a, &big[0]);
	struct timeval zero = {0, 0};
	long sel = syscall(SYS_select, 1100, big, NULL, NULL, &zero);

	struct epoll_event ev[4];
	int ep = epoll_create1(EPOLL_CLOEXEC);
	long ew = syscall(SYS_epoll_wait, ep, ev, 4, 0);

	fprintf(stderr, "pid=%d\nport=%d\naccepted=%ld\nsmall_len=%u\nsmall=%02x%02x%02x%02x\nwritev=%ld\nreadv=%ld\npoll=%ld\n"
		"recvmsg=%ld\nnamelen=%u\nname=%02x%02x%02x%02x\nselect=%ld\nepoll_wait=%ld\n",
		getpid(), ntohs(srv.sin_port), a, small_len, small[0], small[1], small[2], small[3], wv, rv, pl, rm,
		m.msg_namelen, name[0], name[1], name[2], name[3], sel, ew);
	return 0;
}
