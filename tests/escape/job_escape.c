/* SPDX-License-Identifier: MIT */
/*
 * Processes of the sandbox that try to run on while its job is stopped
 * (Ctrl-Z): each way writes a line to ./ticks every 50 ms for SECONDS,
 * ignores SIGTSTP and leaves the terminal's process group, says "ready"
 * on stdout, and its first process exits 7.
 *
 *   job_escape chain DEPTH SECONDS
 *     the ticking process at the end of a chain of DEPTH processes, each
 *     waiting for the next: deeper than a walk by recursion reaches.
 *   job_escape cont SECONDS DEPTH
 *     processes that continue each other, so that a stop sent to each in
 *     turn never holds: the first ticks while sending SIGCONT to the
 *     others; a second, its child, continues the first without pause (it
 *     wins the race of one kill(-1)); a third, at the end of a chain of
 *     DEPTH (the last a walk of the tree reaches), every 50 us.  A stop
 *     only sent, not seen taken, leaves them running.
 *   job_escape timer SECONDS
 *     one process with timers whose signal is SIGCONT, one firing every
 *     20 ms: the kernel continues it when nothing of the sandbox runs.
 *     Eight timers of 160 ms, not one of 20: a periodic timer is set again
 *     when its signal is taken, and a stop drops a SIGCONT still pending,
 *     so a stop that came while the one timer's signal waited (the process
 *     not yet scheduled, on a loaded machine) ended the attack by itself.
 *   job_escape burst SECONDS
 *     the same timers, but each time continued the process writes its
 *     line and stops itself at once (SIGSTOP): it runs for microseconds
 *     every 20 ms, and shows T whenever it is looked at.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int deep_chain(int argc, char **argv)
{
	int depth = argc > 2 ? atoi(argv[2]) : 300;
	double seconds = argc > 3 ? atof(argv[3]) : 4;
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

static int cont_race(int argc, char **argv)
{
	double seconds = argc > 2 ? atof(argv[2]) : 4;
	int depth = argc > 3 ? atoi(argv[3]) : 100;
	int p[2];

	signal(SIGTSTP, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);
	setpgid(0, 0);
	if (pipe(p) < 0)
		return 1;
	pid_t first = getpid();
	pid_t second = fork();
	if (second < 0)
		return 1;
	if (second == 0) {
		while (kill(first, SIGCONT) == 0)
			for (volatile int i = 0; i < 200; i++)
				;
		_exit(0);
	}
	pid_t chain = fork();
	if (chain < 0)
		return 1;
	if (chain == 0) {
		for (int i = 0; i < depth; i++) {
			pid_t c = fork();
			if (c < 0)
				_exit(1);
			if (c > 0) {
				while (waitpid(c, NULL, 0) < 0)
					;
				_exit(0);
			}
		}
		pid_t me = getpid();
		(void)!write(p[1], &me, sizeof(me));
		while (kill(first, SIGCONT) == 0)
			usleep(50);
		_exit(0);
	}
	pid_t third = 0;
	if (read(p[0], &third, sizeof(third)) != sizeof(third))
		return 1;
	int fd = open("ticks", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	printf("ready\n");
	fflush(stdout);
	double next = now();
	for (double end = now() + seconds; now() < end;) {
		kill(second, SIGCONT);
		kill(third, SIGCONT);
		if (now() >= next) {
			(void)!write(fd, "t\n", 2);
			next += 0.05;
		}
		for (volatile int i = 0; i < 200; i++)
			;
	}
	kill(second, SIGKILL);
	kill(third, SIGKILL);
	waitpid(second, NULL, 0);
	waitpid(chain, NULL, 0);
	return 7;
}

static void on_cont(int sig)
{
	(void)sig; /* a handler: ignored by default, the timer's signal would be dropped */
}

/* timer and burst: eight staggered SIGCONT timers; each pass writes a
 * tick, then sleeps 50 ms (timer) or stops itself (BURST). */
static int timer_cont(int argc, char **argv, bool burst)
{
	double seconds = argc > 2 ? atof(argv[2]) : 4;
	struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGCONT};

	signal(SIGTSTP, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);
	signal(SIGCONT, on_cont);
	setpgid(0, 0);
	int fd = open("ticks", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	printf("ready\n");
	fflush(stdout);
	for (long i = 0; i < 8; i++) {
		struct itimerspec every = {{0, 160000000}, {0, 20000000 * (i + 1)}};
		timer_t t;
		if (timer_create(CLOCK_MONOTONIC, &ev, &t) < 0 ||
		    timer_settime(t, 0, &every, NULL) < 0)
			return 1;
	}
	for (double end = now() + seconds; now() < end;) {
		(void)!write(fd, "t\n", 2);
		if (burst)
			raise(SIGSTOP);
		else
			usleep(50000);
	}
	return 7;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "timer") == 0)
		return timer_cont(argc, argv, false);
	if (argc > 1 && strcmp(argv[1], "burst") == 0)
		return timer_cont(argc, argv, true);
	if (argc > 1 && strcmp(argv[1], "chain") == 0)
		return deep_chain(argc, argv);
	if (argc > 1 && strcmp(argv[1], "cont") == 0)
		return cont_race(argc, argv);
	fprintf(stderr,
		"usage: job_escape chain DEPTH SECONDS | cont SECONDS DEPTH | timer SECONDS | "
		"burst SECONDS\n");
	return 2;
}
