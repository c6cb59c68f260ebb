/* A test workload that handles signals: each handled signal ends in rt_sigreturn, whose
 * exit no longer carries its syscall number. Sends itself SIGUSR1 N times (the handler
 * runs on the way out of kill), and N times waits in pause() for a SIGALRM from a timer
 * (pause returns EINTR after the handler). Prints "pid=PID" on stderr. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t handled;

static void on_signal(int sig)
{
	(void)sig;
	handled++;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 5;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	for (int i = 0; i < n; i++)
		kill(getpid(), SIGUSR1);
	for (int i = 0; i < n; i++) {
		struct itimerval it = {{0, 0}, {0, 2000}};

		setitimer(ITIMER_REAL, &it, NULL);
		pause();
	}
	fprintf(stderr, "pid=%d\nhandled=%d\n", getpid(), (int)handled);
	return handled == 2 * n ? 0 : 1;
}
