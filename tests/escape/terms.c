/* SPDX-License-Identifier: MIT */
/*
 * Terminals and devices.  Arguments:
 *   pts=PATH      another terminal of the same user (the test holds its
 *                 master side): opening it would read what is typed there
 *   dev=PATH      a device no default grant names (repeatable as dev1=, dev2=)
 *   newpty=1      a terminal of its own must still be possible (namespaces)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "escape.h"

static long open_dev(const char *path, int flags)
{
	int fd = open(path, flags | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	return fd;
}

int main(int argc, char **argv)
{
	const char *a;
	char key[8];

	if ((a = arg(argc, argv, "pts"))) {
		ATTACK("opening another terminal for reading", open_dev(a, O_RDONLY));
		ATTACK("opening another terminal for writing", open_dev(a, O_WRONLY));
	}
	for (int i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "dev%d", i);
		if ((a = arg(argc, argv, key))) {
			char what[128];
			snprintf(what, sizeof(what), "opening %s", a);
			ATTACK(what, open_dev(a, O_RDONLY));
		}
	}

	/* controls: the devices every command needs */
	static const char *const need[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/urandom",
					   "/dev/random"};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (open_dev(need[i], i < 3 ? O_RDWR : O_RDONLY) < 0) {
			printf("ESCAPED: control failed: cannot open %s (%s)\n", need[i],
			       strerror(errno));
			escapes++;
		}
	/* a pipe of its own (the test's pipes belong to another user) */
	int pfd[2];
	char via_fd[32];
	if (pipe(pfd) < 0)
		return 2;
	snprintf(via_fd, sizeof(via_fd), "/dev/fd/%d", pfd[1]);
	if (open_dev(via_fd, O_WRONLY) < 0) {
		printf("ESCAPED: control failed: /dev/fd (%s)\n", strerror(errno));
		escapes++;
	}
	if (arg(argc, argv, "newpty")) {
		int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		char *name = m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0 ? ptsname(m) : NULL;
		int s = name ? open(name, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
		if (s < 0) {
			printf("ESCAPED: control failed: no terminal of its own (%s)\n",
			       strerror(errno));
			escapes++;
		} else {
			printf("ok: a terminal of its own: %s\n", name);
		}
	}
	printf("ok: null, zero, full, random, urandom, /dev/fd\n");
	ESCAPE_DONE();
}
