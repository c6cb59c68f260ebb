/* A test workload with known process activity, one scenario per invocation, so that
 * the kernel tests can assert exact pids, argv, errors and exit statuses.
 *
 *   execer fail PATH ARG...     execve(PATH) that fails, then exit 3
 *   execer execveat DIR NAME ARG...  execveat(open(DIR), NAME, argv) — execs NAME
 *   execer fork CODE            fork; the child exits with CODE without exec'ing
 *   execer exit CODE            exit with CODE
 *   execer signal SIG           raise SIG (default action)
 *   execer thread-exec PATH ARG...  a second thread calls execve(PATH)
 *
 * Each scenario prints the pids that matter on stdout as "key=value" lines.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static char **thread_argv;

static void *thread_exec(void *arg)
{
	(void)arg;
	printf("tid=%ld\n", (long)syscall(SYS_gettid));
	fflush(stdout);
	execve(thread_argv[0], thread_argv, environ);
	perror("execve");
	_exit(4);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: execer SCENARIO ...\n");
		return 2;
	}
	const char *what = argv[1];
	printf("pid=%d\n", getpid());
	fflush(stdout);

	if (!strcmp(what, "fail") && argc >= 3) {
		execve(argv[2], &argv[2], environ);
		printf("errno=%d\n", errno);
		return 3;
	}
	if (!strcmp(what, "execveat") && argc >= 4) {
		int dfd = open(argv[2], O_PATH | O_DIRECTORY);
		if (dfd < 0) {
			perror("open");
			return 2;
		}
		syscall(SYS_execveat, dfd, argv[3], &argv[3], environ, 0);
		perror("execveat");
		return 4;
	}
	if (!strcmp(what, "fork") && argc >= 3) {
		pid_t child = fork();
		if (child == 0)
			_exit(atoi(argv[2]));
		printf("child=%d\n", child);
		int status;
		waitpid(child, &status, 0);
		return 0;
	}
	if (!strcmp(what, "exit") && argc >= 3)
		return atoi(argv[2]);
	if (!strcmp(what, "signal") && argc >= 3) {
		signal(atoi(argv[2]), SIG_DFL);
		raise(atoi(argv[2]));
		return 5;
	}
	if (!strcmp(what, "thread-exec") && argc >= 3) {
		pthread_t t;
		thread_argv = &argv[2];
		pthread_create(&t, NULL, thread_exec, NULL);
		pthread_join(t, NULL);
		return 4;
	}
	fprintf(stderr, "execer: unknown scenario %s\n", what);
	return 2;
}
