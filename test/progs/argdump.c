/* Writes the argv it received to stdout, each argument followed by a NUL byte, so that a
 * test can compare it byte for byte with what it asked to run. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		fwrite(argv[i], 1, strlen(argv[i]), stdout);
		fputc(0, stdout);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
