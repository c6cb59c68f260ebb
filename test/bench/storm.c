/* The syscall storm of `make bench`: N getppid() calls, each a real system call
 * (syscall(SYS_getppid): glibc caches nothing for it, but going through
 * syscall() makes that explicit), timed with CLOCK_MONOTONIC around the loop
 * only, so a tracer's start-up and shutdown are not counted.
 *
 *   storm N    prints "storm pid=P calls=N elapsed_ns=T utime_us=U stime_us=S"
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long us(struct timeval tv)
{
	return tv.tv_sec * 1000000LL + tv.tv_usec;
}

int main(int argc, char **argv)
{
	if (argc != 2 || atol(argv[1]) <= 0) {
		fprintf(stderr, "usage: storm N\n");
		return 2;
	}
	long n = atol(argv[1]);
	long long start = now_ns();
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	long long elapsed = now_ns() - start;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("storm pid=%d calls=%ld elapsed_ns=%lld utime_us=%lld stime_us=%lld\n", (int)getpid(), n, elapsed,
	       us(ru.ru_utime), us(ru.ru_stime));
	return 0;
}
