/* SPDX-License-Identifier: MIT */
/* scan_give_back_read(): a directory the run made unreadable gets its
 * owner's read back, and nothing else does, even when the sandbox (which
 * runs while the live walk does) swaps the directory for a link to a file
 * of the user's between the walk's look and its change.
 *
 * The race is made certain here: this file's fstatat() and fstat() stand
 * in for the C library's (the test binary's own definitions are the ones
 * its objects call) and, once armed, swap the two names right after the
 * look, as a sandbox exchanging them in a loop would at its best. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../supervisor/gitscan_internal.h"

static int swap_dir = -1; /* armed: the directory whose "d" and "l" are swapped */

static void swap_now(void)
{
	if (swap_dir < 0)
		return;
	assert_int_equal(syscall(SYS_renameat2, swap_dir, "d", swap_dir, "l", RENAME_EXCHANGE), 0);
	swap_dir = -1;
}

int fstatat(int dir, const char *name, struct stat *st, int flags)
{
	long r = syscall(SYS_newfstatat, dir, name, st, flags);
	if (r == 0)
		swap_now();
	return (int)r;
}

int fstat(int fd, struct stat *st)
{
	long r = syscall(SYS_fstat, fd, st);
	if (r == 0)
		swap_now();
	return (int)r;
}

struct tree {
	char base[64], victim[96];
	int w; /* base/w, where the walk is */
};

/* base/victim (0600), base/w/d (a directory made unreadable: 0255) and
 * base/w/l, a link to the victim. */
static void make_tree(struct tree *t)
{
	snprintf(t->base, sizeof(t->base), "/tmp/rf-givebackXXXXXX");
	assert_non_null(mkdtemp(t->base));
	snprintf(t->victim, sizeof(t->victim), "%s/victim", t->base);
	int fd = open(t->victim, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(t->victim, 0600), 0);
	t->w = openat(AT_FDCWD, t->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(t->w >= 0);
	assert_int_equal(mkdirat(t->w, "w", 0700), 0);
	int w = openat(t->w, "w", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(w >= 0);
	close(t->w);
	t->w = w;
	assert_int_equal(mkdirat(t->w, "d", 0700), 0);
	assert_int_equal(fchmodat(t->w, "d", 0255, 0), 0);
	assert_int_equal(symlinkat(t->victim, t->w, "l"), 0);
}

static void drop_tree(struct tree *t)
{
	char cmd[200];
	close(t->w);
	snprintf(cmd, sizeof(cmd), "chmod -R u+rwx %s; rm -rf %s", t->base, t->base);
	assert_int_equal(system(cmd), 0);
}

static mode_t mode_of(int dir, const char *name)
{
	struct stat st;
	assert_int_equal(syscall(SYS_newfstatat, dir, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	return st.st_mode & 07777;
}

static struct scan scan_since_always(void)
{
	static const struct timespec zero;
	return (struct scan){.since = &zero, .root = "/"};
}

/* The control: no race, the directory gets u+rx back. */
static void test_gives_back_read(void **state)
{
	struct tree t;
	struct scan s = scan_since_always();
	(void)state;

	make_tree(&t);
	assert_true(scan_give_back_read(&s, t.w, "d", "w/d"));
	assert_int_equal(mode_of(t.w, "d"), 0755);
	assert_int_equal(mode_of(AT_FDCWD, t.victim), 0600);
	drop_tree(&t);
}

/* A link where the directory is looked for: nothing changed. */
static void test_a_link_is_not_followed(void **state)
{
	struct tree t;
	struct scan s = scan_since_always();
	(void)state;

	make_tree(&t);
	assert_false(scan_give_back_read(&s, t.w, "l", "w/l"));
	assert_int_equal(mode_of(AT_FDCWD, t.victim), 0600);
	drop_tree(&t);
}

/* The directory swapped for the link right after the walk looked: the
 * change reaches the directory looked at (now named "l"), never the file
 * the link leads to. */
static void test_a_directory_swapped_for_a_link_after_the_look(void **state)
{
	struct tree t;
	struct scan s = scan_since_always();
	(void)state;

	make_tree(&t);
	swap_dir = t.w;
	(void)scan_give_back_read(&s, t.w, "d", "w/d");
	assert_int_equal(swap_dir, -1); /* the swap was made */
	assert_int_equal(mode_of(AT_FDCWD, t.victim), 0600);
	assert_int_equal(mode_of(t.w, "l"), 0755);
	drop_tree(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gives_back_read),
	    cmocka_unit_test(test_a_link_is_not_followed),
	    cmocka_unit_test(test_a_directory_swapped_for_a_link_after_the_look),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
