/* SPDX-License-Identifier: MIT */
/* ringfence: a pre-exec sandbox supervisor for AI-agent command-line tools. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "supervisor.h"

#ifndef RINGFENCE_VERSION
#define RINGFENCE_VERSION "0.1.0"
#endif

#ifdef RINGFENCE_NO_LEAK_CHECK
/* make asan's binary: LeakSanitizer's check at each exit (it stops the
 * process to scan its memory) costs ~100 ms a process here, and the
 * integration suite starts ringfence over and over: three of its files
 * took 80 s with it, 65 s without.  Leaks are checked where the code is
 * driven hardest instead: the unit tests (which do not link this file)
 * and every fuzzer (the proxy's conversations, the policy, the git
 * readers).  ASAN_OPTIONS in the environment still overrides it. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

/* Descriptors 0-2 must exist so nothing we open lands on them by accident. */
static void ensure_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0) {
			int n = open("/dev/null", O_RDWR);
			if (n < 0)
				_exit(EXIT_RINGFENCE);
			if (n != fd)
				_exit(EXIT_RINGFENCE);
		}
}

int main(int argc, char **argv)
{
	struct cli cli;
	char err[512];
	int r;

	ensure_std_fds();
	if (cli_parse(argc, argv, &cli, err, sizeof(err)) < 0)
		die("%s", err);
	verbosity = cli.verbose;
	switch (cli.command) {
	case CLI_HELP:
		cli_usage(stdout);
		r = 0;
		break;
	case CLI_VERSION:
		printf("ringfence %s\n", RINGFENCE_VERSION);
		r = 0;
		break;
	case CLI_CHECK:
		r = supervisor_check(&cli);
		break;
	case CLI_EXPLAIN:
		r = supervisor_explain(&cli);
		break;
	case CLI_PROBE:
		r = supervisor_probe();
		break;
	case CLI_LEARN:
		r = cli.learn_out ? supervisor_learn_run(&cli) : supervisor_learn(&cli);
		break;
	case CLI_RUN:
		r = supervisor_run(&cli);
		break;
	case _CLI_MAX:
	default:
		die("internal error: unknown command");
	}
	cli_free(&cli);
	return r;
}
