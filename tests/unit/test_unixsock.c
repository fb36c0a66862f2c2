/* SPDX-License-Identifier: MIT */
/* [network] unix_connect patterns: what they match, and their canonical form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../supervisor/supervisor.h"

static void test_match(void **state)
{
	(void)state;
	char *pats[] = {"/run/user/1000/bus", "/tmp/ssh-*/agent.*", "/home/u/proj/**"};
	size_t n = sizeof(pats) / sizeof(pats[0]);

	assert_true(unixsock_match(pats, n, "/run/user/1000/bus"));
	assert_false(unixsock_match(pats, n, "/run/user/1000/bus2"));
	assert_false(unixsock_match(pats, n, "/run/user/1000"));
	assert_true(unixsock_match(pats, n, "/tmp/ssh-abc/agent.12"));
	/* `*` stays within one component */
	assert_false(unixsock_match(pats, n, "/tmp/ssh-a/b/agent.12"));
	assert_true(unixsock_match(pats, n, "/home/u/proj/s.sock"));
	assert_true(unixsock_match(pats, n, "/home/u/proj/a/b/s.sock"));
	/* the directory itself, a sibling with the same prefix, and ../ tricks
	 * (names come from the kernel, canonical) do not match */
	assert_false(unixsock_match(pats, n, "/home/u/proj"));
	assert_false(unixsock_match(pats, n, "/home/u/project/s.sock"));
	assert_false(unixsock_match(pats, 0, "/run/user/1000/bus"));
	char *all[] = {"/**"};
	assert_true(unixsock_match(all, 1, "/x"));
}

static void test_canonical(void **state)
{
	(void)state;
	char dir[] = "/tmp/rf-unixsock-XXXXXX", link[64], pat[128];
	char *out = NULL;

	assert_non_null(mkdtemp(dir));
	snprintf(link, sizeof(link), "%s.l", dir);
	assert_int_equal(symlink(dir, link), 0);
	/* a symlink in the fixed part is resolved, globs kept */
	snprintf(pat, sizeof(pat), "%s/ssh-*/agent", link);
	assert_int_equal(unixsock_canonical_pattern(pat, &out), 0);
	snprintf(pat, sizeof(pat), "%s/ssh-*/agent", dir);
	assert_string_equal(out, pat);
	free(out);
	snprintf(pat, sizeof(pat), "%s/**", link);
	assert_int_equal(unixsock_canonical_pattern(pat, &out), 0);
	snprintf(pat, sizeof(pat), "%s/**", dir);
	assert_string_equal(out, pat);
	free(out);
	/* a socket that does not exist yet is kept as written */
	assert_int_equal(unixsock_canonical_pattern("/nonexistent/x.sock", &out), 0);
	assert_string_equal(out, "/nonexistent/x.sock");
	free(out);
	unlink(link);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_match),
	    cmocka_unit_test(test_canonical),
	};
	return cmocka_run_group_tests_name("unixsock", tests, NULL, NULL);
}
