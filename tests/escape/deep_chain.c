/* SPDX-License-Identifier: MIT */
/*
 * A process deeper in the sandbox's tree than a walk by recursion reaches,
 * still running when the job is stopped: it ignores SIGTSTP, leaves the
 * terminal's process group, and sits at the end of a chain of DEPTH
 * processes, each waiting for the next.  It writes a line to ./ticks every
 * 50 ms for SECONDS; the first process exits 7 once it has.
 *
 *   deep_chain DEPTH SECONDS
 *
 * "ready" on stdout once the chain is made.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int depth = argc > 1 ? atoi(argv[1]) : 300;
	double seconds = argc > 2 ? atof(argv[2]) : 4;
	int ready[2];

	signal(SIGTSTP, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);
	if (pipe(ready) < 0)
		return 1;
	setpgid(0, 0);
	pid_t first = fork();
	if (first < 0)
		return 1;
	if (first == 0) {
		close(ready[0]);
		for (int i = 0; i < depth; i++) {
			pid_t p = fork();
			if (p < 0)
				_exit(1);
			if (p > 0) {
				close(ready[1]);
				while (waitpid(p, NULL, 0) < 0)
					;
				_exit(0);
			}
		}
		int fd = open("ticks", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		(void)!write(ready[1], "r", 1);
		close(ready[1]);
		for (double end = now() + seconds; now() < end;) {
			(void)!write(fd, "t\n", 2);
			usleep(50000);
		}
		_exit(0);
	}
	close(ready[1]);
	char c;
	if (read(ready[0], &c, 1) == 1) {
		printf("ready\n");
		fflush(stdout);
	}
	while (waitpid(first, NULL, 0) < 0)
		;
	return 7;
}
