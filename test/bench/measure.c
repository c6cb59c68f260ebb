/* Runs a command and measures it from the outside, the way `make bench` needs
 * for a recorder (which itself runs the workload as its child):
 *
 *   measure RESULT CMD ARG...
 *
 * Writes one JSON object to the file RESULT:
 *   wall_ns            fork to exit
 *   utime_s, stime_s   the command's own CPU time, all its threads, children
 *                      excluded: /proc/PID/stat fields 14-15, read while the
 *                      command is a zombie (waitid WNOWAIT), so nothing is missed
 *   cutime_s, cstime_s its waited-for children's CPU time (fields 16-17)
 *   ru_utime_s, ru_stime_s  wait4's rusage: self plus waited-for descendants
 *   maxrss_kb          wait4's ru_maxrss: the largest peak RSS of the command
 *                      and its waited-for descendants
 *   hwm_kb             the command's own VmHWM, sampled every 20 ms while it
 *                      runs (misses at most the last 20 ms)
 *   status, signal     how it ended
 * SIGINT, SIGTERM and SIGHUP are forwarded to the command. Exits with the
 * command's status (128+N for a signal).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile pid_t child;

static void forward(int sig)
{
	if (child > 0)
		kill(child, sig);
}

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long vm_hwm_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Fields 14..17 of /proc/PID/stat (utime stime cutime cstime), in clock ticks. */
static int proc_times(pid_t pid, unsigned long long t[4])
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')'); /* comm may hold spaces and parentheses */
	if (!p)
		return -1;
	/* after ")": field 3 (state) ... field 17 */
	char state;
	int got = sscanf(p + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu", &state, &t[0],
			 &t[1], &t[2], &t[3]);
	return got == 5 ? 0 : -1;
}

static double tv_s(struct timeval tv)
{
	return tv.tv_sec + tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: measure RESULT CMD ARG...\n");
		return 2;
	}
	struct sigaction sa = {.sa_handler = forward};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	long long start = now_ns();
	pid_t pid = fork();
	if (pid < 0) {
		perror("measure: fork");
		return 2;
	}
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		execvp(argv[2], argv + 2);
		fprintf(stderr, "measure: exec %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	child = pid;

	long hwm = -1;
	for (;;) {
		siginfo_t si = {0};
		if (waitid(P_PID, pid, &si, WEXITED | WNOWAIT | WNOHANG) < 0) {
			if (errno == EINTR)
				continue;
			perror("measure: waitid");
			return 2;
		}
		if (si.si_pid == pid)
			break;
		long kb = vm_hwm_kb(pid);
		if (kb > hwm)
			hwm = kb;
		struct timespec nap = {0, 20 * 1000 * 1000};
		nanosleep(&nap, NULL);
	}
	long long wall = now_ns() - start;
	unsigned long long t[4] = {0, 0, 0, 0};
	int have_times = proc_times(pid, t) == 0;
	double tick = (double)sysconf(_SC_CLK_TCK);

	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("measure: wait4");
			return 2;
		}
	}
	child = 0;

	FILE *out = fopen(argv[1], "w");
	if (!out) {
		fprintf(stderr, "measure: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	fprintf(out, "{\"wall_ns\":%lld,", wall);
	if (have_times)
		fprintf(out, "\"utime_s\":%.2f,\"stime_s\":%.2f,\"cutime_s\":%.2f,\"cstime_s\":%.2f,", t[0] / tick,
			t[1] / tick, t[2] / tick, t[3] / tick);
	fprintf(out, "\"ru_utime_s\":%.6f,\"ru_stime_s\":%.6f,\"maxrss_kb\":%ld,\"hwm_kb\":%ld,", tv_s(ru.ru_utime),
		tv_s(ru.ru_stime), ru.ru_maxrss, hwm);
	if (WIFSIGNALED(status))
		fprintf(out, "\"status\":null,\"signal\":%d}\n", WTERMSIG(status));
	else
		fprintf(out, "\"status\":%d,\"signal\":null}\n", WEXITSTATUS(status));
	fclose(out);
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
