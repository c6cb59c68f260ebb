/* A process that exits while one of its threads is blocked in a call: the thread sleeps
 * in clock_nanosleep for 10 s, main returns (exit_group) after 20 ms, so the sleeper's
 * call is ended by the group exit. With "kill", main instead kills the process with
 * SIGKILL. Exits 3. */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void *sleeper(void *arg)
{
	struct timespec ts = {10, 0};

	clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
	return arg;
}

int main(int argc, char **argv)
{
	pthread_t t;

	pthread_create(&t, NULL, sleeper, NULL);
	usleep(20000);
	if (argc > 1 && strcmp(argv[1], "kill") == 0)
		kill(getpid(), SIGKILL);
	return 3;
}
