/*
 * Test input for test/record-fds.test.ts: a child made with clone(CLONE_FILES) (a process,
 * not a thread, that shares its parent's descriptor table) opens a file; the parent then
 * reads from the descriptor the child opened, and closes it; the child, after its parent's
 * close, finds it closed. Prints what each read got.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static char stack[1 << 16];
static int fd = -1;

static int child(void *path)
{
	fd = open(path, O_RDONLY);
	return fd < 0;
}

int main(int argc, char **argv)
{
	char b[64];
	pid_t p;
	ssize_t n;

	if (argc != 2) {
		fprintf(stderr, "usage: clonefiles FILE\n");
		return 2;
	}
	p = clone(child, stack + sizeof stack, CLONE_FILES | CLONE_VM | SIGCHLD, argv[1]);
	if (p < 0 || waitpid(p, NULL, 0) != p || fd < 0) {
		perror("clone");
		return 1;
	}
	n = read(fd, b, sizeof b);
	close(fd);
	printf("read=%zd fd=%d\n", n, fd);
	return 0;
}
