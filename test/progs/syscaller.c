/* A test workload with known syscalls, made with syscall(2) so that libc cannot swap
 * them for others (glibc's fstat() is newfstatat, for one):
 *   openat(AT_FDCWD, FILE, O_RDONLY|O_CLOEXEC), read(fd, buf, 256), fstat(fd),
 *   close(fd), a failing openat, and a write of a known payload to stdout.
 * Prints "key=value" lines on stderr with what the calls returned, for the test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: syscaller FILE\n");
		return 2;
	}
	char buf[256];
	struct stat st;
	long fd = syscall(SYS_openat, AT_FDCWD, argv[1], O_RDONLY | O_CLOEXEC);
	long n = syscall(SYS_read, fd, buf, sizeof(buf));
	long fs = syscall(SYS_fstat, fd, &st);
	long cl = syscall(SYS_close, fd);
	long bad = syscall(SYS_openat, AT_FDCWD, "/nonexistent/exectrace-syscalls", O_RDONLY);
	int bad_errno = errno;
	static const char payload[] = "exectrace payload: \x01\x02 ünï\n";
	long w = syscall(SYS_write, 1, payload, sizeof(payload) - 1);
	fprintf(stderr, "pid=%d\nfd=%ld\nread=%ld\nfstat=%ld\nclose=%ld\nbad=%ld\nbad_errno=%d\nwrite=%ld\nino=%lu\nsize=%ld\n",
		getpid(), fd, n, fs, cl, bad, bad_errno, w, (unsigned long)st.st_ino, (long)st.st_size);
	return 0;
}
