/* SPDX-License-Identifier: MIT */
/* The index reader that finds gitlinks: versions 2, 3 (extended flags) and
 * 4 (prefix-compressed paths), SHA-1 and SHA-256, made by git itself; and
 * what is not an index is refused, never half read. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../supervisor/supervisor.h"

struct found {
	char names[8][64];
	int n;
};

static void collect(void *ud, const char *path)
{
	struct found *f = ud;
	if (f->n < 8)
		snprintf(f->names[f->n++], 64, "%s", path);
}

static int parse_file(const char *path, struct found *f)
{
	static unsigned char buf[1 << 16];
	int fd = open(path, O_RDONLY);
	ssize_t n;
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	assert_true(n > 0);
	memset(f, 0, sizeof(*f));
	return gitlinks_parse(buf, (size_t)n, collect, f);
}

/* A repository with files, a deep path sharing prefixes, and two gitlinks. */
static void make_index(const char *dir, const char *init_opts, const char *after)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd),
		 "set -e; cd %s; git init -q %s .; "
		 "mkdir -p a/b/c; echo 1 > a/b/c/file; echo 2 > a/b/c/filf; echo 3 > top; "
		 "git add .; H=$(git hash-object top); "
		 "git update-index --add --cacheinfo 160000,$H,a/b/sub; "
		 "git update-index --add --cacheinfo 160000,$H,zz/mod; %s",
		 dir, init_opts, after);
	assert_int_equal(system(cmd), 0);
}

static void check(const char *init_opts, const char *after)
{
	char dir[] = "/tmp/rf-gitlinks-XXXXXX", path[128], cmd[160];
	struct found f;
	assert_non_null(mkdtemp(dir));
	make_index(dir, init_opts, after);
	snprintf(path, sizeof(path), "%s/.git/index", dir);
	assert_int_equal(parse_file(path, &f), 0);
	assert_int_equal(f.n, 2);
	assert_string_equal(f.names[0], "a/b/sub");
	assert_string_equal(f.names[1], "zz/mod");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_version_2(void **state)
{
	(void)state;
	check("", "git update-index --index-version 2");
}

static void test_version_3_extended_flags(void **state)
{
	(void)state;
	/* intent-to-add sets an extended flag, which needs version 3 */
	check("", "echo n > newf; git add -N newf; git update-index --index-version 3");
}

static void test_version_4_prefix_compressed(void **state)
{
	(void)state;
	check("", "git update-index --index-version 4");
}

static void test_sha256(void **state)
{
	(void)state;
	check("--object-format=sha256", "git update-index --index-version 2");
}

struct trees {
	char lines[16][160];
	int n;
};

static void collect_tree(void *ud, const char *path, const unsigned char *oid, size_t sz)
{
	struct trees *t = ud;
	char hex[65];

	for (size_t i = 0; i < sz; i++)
		snprintf(hex + 2 * i, 3, "%02x", oid[i]);
	if (t->n < 16)
		snprintf(t->lines[t->n++], 160, "%s %s", path[0] ? path : ".", hex);
}

static void no_entry(void *ud, const char *path, uint32_t mode, const unsigned char *oid, size_t sz)
{
	(void)ud, (void)path, (void)mode, (void)oid, (void)sz;
}

/* A repository made in a new directory by the shell commands SCRIPT, its
 * index read into BUF (SIZE bytes at most); its length.  The directory's
 * name in DIR (removed by the caller). */
static size_t git_index(char *dir, const char *script, unsigned char *buf, size_t size)
{
	char path[128], cmd[2048];

	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "set -e; cd %s; git init -q .; %s", dir, script);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/.git/index", dir);
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	ssize_t n = read(fd, buf, size);
	close(fd);
	assert_true(n > 0 && (size_t)n < size);
	return (size_t)n;
}

/* The cache tree (TREE extension), as git write-tree leaves it: each
 * valid node's path and tree, the same as git's own `git rev-parse
 * HEAD:PATH` once committed; a node made invalid by a staged change is not
 * given. */
static void test_cache_tree(void **state)
{
	char dir[] = "/tmp/rf-gitlinks-XXXXXX", path[128], cmd[160];
	static unsigned char buf[1 << 16];
	struct trees t = {0};
	(void)state;
	size_t n = git_index(dir,
			     "mkdir -p a/b d; echo 1 > a/b/f; echo 2 > d/g; "
			     "echo 3 > top; git add .; T=$(git write-tree); "
			     "echo 4 > d/g; git add d/g; "
			     "for p in a a/b; do echo \"$p $(git rev-parse $T:$p)\"; done > expect",
			     buf, sizeof(buf));
	assert_int_equal(gitindex_parse_all(buf, n, 0, no_entry, collect_tree, &t), 0);
	/* the top and d are invalid (d/g staged since); a and a/b are not */
	assert_int_equal(t.n, 2);
	snprintf(path, sizeof(path), "%s/expect", dir);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[160];
	for (int i = 0; i < 2; i++) {
		assert_non_null(fgets(line, sizeof(line), f));
		line[strcspn(line, "\n")] = '\0';
		assert_string_equal(t.lines[i], line);
	}
	fclose(f);
	/* a cache tree cut short: refused, not half read */
	assert_int_equal(gitindex_parse_all(buf, n - 30, 0, no_entry, collect_tree, &t), -EINVAL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* An index git writes for its threads (EOIE: where the entries end;
 * IEOT: where each block of them starts): read as git reads it when its
 * offsets are where the entries are, refused when one is moved (git's
 * threads would read other entries than these, on a host of 3 CPUs). */
static void test_entry_offsets_as_git_threads_read_them(void **state)
{
	char dir[] = "/tmp/rf-gitlinks-XXXXXX", cmd[160];
	static unsigned char buf[1 << 20];
	struct trees t = {0};
	(void)state;
	size_t n = git_index(dir,
			     "mkdir d; for i in $(seq 300); do echo $i > d/f$i; done; "
			     "git -c index.recordEndOfIndexEntries=true "
			     "-c index.recordOffsetTable=true -c index.threads=4 add .",
			     buf, sizeof(buf));
	assert_int_equal(gitindex_parse_all(buf, n, 20, no_entry, collect_tree, &t), 0);
	unsigned char *ieot = memmem(buf, n, "IEOT", 4);
	assert_non_null(ieot);
	/* the second block said to start 4 bytes later */
	ieot[8 + 4 + 8 + 3] += 4;
	assert_int_equal(gitindex_parse_all(buf, n, 20, no_entry, collect_tree, &t), -EINVAL);
	ieot[8 + 4 + 8 + 3] -= 4;
	unsigned char *eoie = memmem(buf, n, "EOIE", 4);
	assert_non_null(eoie);
	eoie[8 + 3] ^= 8;
	assert_int_equal(gitindex_parse_all(buf, n, 20, no_entry, collect_tree, &t), -EINVAL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_not_an_index(void **state)
{
	static const unsigned char junk[] = "DIRC\0\0\0\2\0\0\0\5shortshortshort";
	struct found f = {0};
	(void)state;
	assert_int_equal(gitlinks_parse((const unsigned char *)"nope", 4, collect, &f), -EINVAL);
	assert_int_equal(gitlinks_parse(junk, sizeof(junk), collect, &f), -EINVAL);
	assert_int_equal(f.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_version_2),
	    cmocka_unit_test(test_version_3_extended_flags),
	    cmocka_unit_test(test_version_4_prefix_compressed),
	    cmocka_unit_test(test_sha256),
	    cmocka_unit_test(test_cache_tree),
	    cmocka_unit_test(test_entry_offsets_as_git_threads_read_them),
	    cmocka_unit_test(test_not_an_index),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
