/* SPDX-License-Identifier: MIT */
/* creds_open_source(): a file: source is opened only by a way with no link
 * beneath a write grant, and only where that way ended, even when another
 * run sharing the grant swaps a name on the way for a link between the
 * walk that judged it and the open.
 *
 * The race is made certain here: this file's open() (and __open_2(), which
 * a fortified open() calls) stands in for the C library's (the test
 * binary's own definition is the one its objects call)
 * and, once armed, exchanges the two names just before opening, as a
 * sandbox exchanging them in a loop would at its best. */
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

#include "../../supervisor/supervisor.h"

static int swap_dir = -1; /* armed: the directory whose "secret" and "l" are swapped */

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (swap_dir >= 0) {
		assert_int_equal(
		    syscall(SYS_renameat2, swap_dir, "secret", swap_dir, "l", RENAME_EXCHANGE), 0);
		swap_dir = -1;
	}
	return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

/* what a fortified open() with flags not known at compile time calls */
int __open_2(const char *path, int flags);
int __open_2(const char *path, int flags)
{
	return open(path, flags);
}

struct tree {
	char base[64], path[128];
	int w; /* base/w: the write grant */
	struct policy *p;
	struct sandbox sb;
};

static void put(int dir, const char *name, const char *text)
{
	int fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* base/denied, outside every grant; base/w (written by the sandbox) with
 * w/secret, the source, and w/l, a link to base/denied such as the
 * sandbox could make; base/out, a link outside the grants to w/secret. */
static void make_tree(struct tree *t)
{
	char text[200];
	struct policy_error err = {0};

	snprintf(t->base, sizeof(t->base), "/tmp/rf-sourceXXXXXX");
	assert_non_null(mkdtemp(t->base));
	int b = open(t->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(b >= 0);
	put(b, "denied", "denied-bytes");
	assert_int_equal(mkdirat(b, "w", 0700), 0);
	t->w = openat(b, "w", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(t->w >= 0);
	put(t->w, "secret", "the-secret");
	snprintf(text, sizeof(text), "%s/denied", t->base);
	assert_int_equal(symlinkat(text, t->w, "l"), 0);
	assert_int_equal(symlinkat("w/secret", b, "out"), 0);
	close(b);

	snprintf(text, sizeof(text), "[filesystem]\nwrite = %s/w\n", t->base);
	memset(&t->sb, 0, sizeof(t->sb));
	assert_int_equal(policy_load_string("t.ini", text, NULL, &t->p, &err), 0);
	t->sb.policy = t->p;
}

static void drop_tree(struct tree *t)
{
	char cmd[160];
	close(t->w);
	policy_free(t->p);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", t->base);
	assert_int_equal(system(cmd), 0);
}

static const char *at(struct tree *t, const char *name)
{
	snprintf(t->path, sizeof(t->path), "%s/%s", t->base, name);
	return t->path;
}

/* The source's bytes, or "" where it was refused (errno then). */
static const char *read_source(struct tree *t, const char *name)
{
	static char buf[64];
	int fd = creds_open_source(&t->sb, at(t, name), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return "";
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	return buf;
}

/* The controls: the file itself, and a link outside the grants to it. */
static void test_reads_the_source(void **state)
{
	struct tree t;
	(void)state;

	make_tree(&t);
	assert_string_equal(read_source(&t, "w/secret"), "the-secret");
	assert_string_equal(read_source(&t, "out"), "the-secret");
	drop_tree(&t);
}

/* A link beneath the write grant is not followed. */
static void test_a_link_beneath_a_write_grant_is_not_followed(void **state)
{
	struct tree t;
	(void)state;

	make_tree(&t);
	assert_string_equal(read_source(&t, "w/l"), "");
	assert_int_equal(errno, ELOOP);
	drop_tree(&t);
}

/* The walk sees the file; the open would meet the link. */
static void test_a_link_swapped_in_after_the_walk_is_not_read(void **state)
{
	struct tree t;
	(void)state;

	make_tree(&t);
	swap_dir = t.w;
	assert_string_equal(read_source(&t, "w/secret"), "");
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(swap_dir, -1); /* the swap was made */
	drop_tree(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reads_the_source),
	    cmocka_unit_test(test_a_link_beneath_a_write_grant_is_not_followed),
	    cmocka_unit_test(test_a_link_swapped_in_after_the_walk_is_not_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
