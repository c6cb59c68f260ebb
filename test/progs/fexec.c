/* Executes a program from a file descriptor, for test/record-identity.test.ts:
 *   fexec memfd PATH ARGV...    copies PATH into a memfd and fexecve()s it with ARGV
 *   fexec deleted PATH ARGV...  opens PATH, unlinks it, then fexecve()s it with ARGV
 *   fexec reuse PROG            runs PROG twice as two processes with the same pid
 *                               (ns_last_pid), printing that pid */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int die(const char *what)
{
	fprintf(stderr, "fexec: %s: %s\n", what, strerror(errno));
	return 1;
}

static pid_t run(char *prog)
{
	pid_t pid = fork();
	if (pid == 0) {
		char *argv[] = {prog, NULL};
		execve(prog, argv, environ);
		_exit(127);
	}
	return pid;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "reuse") == 0) {
		for (int tries = 0; tries < 50; tries++) {
			int status;
			pid_t a = run(argv[2]), b;
			FILE *f;

			if (a < 0)
				return die("fork");
			waitpid(a, &status, 0);
			f = fopen("/proc/sys/kernel/ns_last_pid", "w");
			if (!f)
				return die("open ns_last_pid");
			fprintf(f, "%d", a - 1);
			if (fclose(f))
				return die("write ns_last_pid");
			b = run(argv[2]);
			if (b < 0)
				return die("fork");
			waitpid(b, &status, 0);
			if (a == b) {
				printf("%d\n", a);
				return 0;
			}
		}
		fprintf(stderr, "fexec: the pid was not reused in 50 tries\n");
		return 1;
	}
	if (argc < 4)
		return fprintf(stderr, "usage: fexec memfd|deleted PATH ARGS... | fexec reuse PROG\n"), 2;
	int fd;
	if (strcmp(argv[1], "memfd") == 0) {
		char buf[65536];
		ssize_t n;
		int in = open(argv[2], O_RDONLY);
		if (in < 0)
			return die(argv[2]);
		fd = memfd_create("payload", MFD_CLOEXEC);
		if (fd < 0)
			return die("memfd_create");
		while ((n = read(in, buf, sizeof(buf))) > 0)
			if (write(fd, buf, n) != n)
				return die("write");
		close(in);
	} else {
		fd = open(argv[2], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return die(argv[2]);
		if (unlink(argv[2]))
			return die("unlink");
	}
	fexecve(fd, argv + 3, environ);
	return die("fexecve");
}
