/* The exec storm of `make bench`: N times, fork, exec /bin/true with a few
 * arguments, wait for it. Every argv is distinct and known, so the bench can
 * check that each exec was recorded with its full argv:
 *
 *   /bin/true MARK I "two words" --flag=value
 *
 *   execstorm N MARK    prints "execstorm execs=N elapsed_ns=T failed=F"
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc != 3 || atol(argv[1]) <= 0) {
		fprintf(stderr, "usage: execstorm N MARK\n");
		return 2;
	}
	long n = atol(argv[1]);
	long failed = 0;
	char index[32];
	char *args[] = {"/bin/true", argv[2], index, "two words", "--flag=value", NULL};
	long long start = now_ns();
	for (long i = 0; i < n; i++) {
		snprintf(index, sizeof(index), "%ld", i);
		pid_t pid = fork();
		if (pid < 0) {
			perror("execstorm: fork");
			return 1;
		}
		if (pid == 0) {
			execv(args[0], args);
			_exit(127);
		}
		int status;
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	long long elapsed = now_ns() - start;
	printf("execstorm execs=%ld elapsed_ns=%lld failed=%ld\n", n, elapsed, failed);
	return failed ? 1 : 0;
}
