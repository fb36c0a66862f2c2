/* SPDX-License-Identifier: MIT */
/* learn -o: the used paths grouped into grants (supervisor/learngroup.c),
 * table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../supervisor/supervisor.h"

#define R LEARN_READ
#define W LEARN_WRITE
#define X LEARN_EXEC

struct group_case {
	const char *name;
	struct {
		const char *path;
		unsigned rights;
	} uses[8];
	/* the grants expected, "write /a/b", in order: write, exec, read, each sorted */
	const char *want[8];
};

static char *never[] = {"/home/u", "/root"};
static char *deny[] = {"/home/u/.ssh", "/etc/ssl/private"};

static const struct group_case cases[] = {
    {"siblings merge into their directory",
     {{"/home/u/.cache/pip/http/a/b", W}, {"/home/u/.cache/pip/wheels/c", W}},
     {"write /home/u/.cache/pip"}},
    {"never into a home",
     {{"/home/u/.cache/pip", W}, {"/home/u/.local/lib", W}},
     {"write /home/u/.cache/pip", "write /home/u/.local/lib"}},
    {"never into /home, above every home",
     {{"/home/u/p", W}, {"/home/v/q", W}},
     {"write /home/u/p", "write /home/v/q"}},
    {"never one level deep", {{"/etc/a", R}, {"/etc/b", R}}, {"read /etc/a", "read /etc/b"}},
    {"two levels deep merge",
     {{"/usr/local/lib/x", W}, {"/usr/local/bin", W}},
     {"write /usr/local"}},
    {"never /", {{"/a", R}, {"/b", R}}, {"read /a", "read /b"}},
    {"a path beneath another folds into it",
     {{"/srv/p", R}, {"/srv/p/sub/deep", R}},
     {"read /srv/p"}},
    {"a read beneath a write is the write's",
     {{"/srv/p/src", R}, {"/srv/p", W}, {"/opt/tool", R}},
     {"write /srv/p", "read /opt/tool"}},
    {"rights grouped apart",
     {{"/srv/a/bin", X}, {"/srv/a/lib", R}},
     {"exec /srv/a/bin", "read /srv/a/lib"}},
    {"a home itself is never proposed", {{"/home/u", R}, {"/root", W}, {"/", R}}, {NULL}},
    {"a deny path is never proposed, nor beneath it",
     {{"/home/u/.ssh", R}, {"/home/u/.ssh/keys", R}, {"/etc/ssl/private/k", R}},
     {NULL}},
    {"no merge into a denied directory",
     {{"/etc/ssl/private/a/x", R}, {"/etc/ssl/certs", R}},
     {"read /etc/ssl/certs"}},
    {"a file in a home stays a file",
     {{"/home/u/.bash_history", W}, {"/home/u/.python_history", W}},
     {"write /home/u/.bash_history", "write /home/u/.python_history"}},
    {"a state directory and a file beside it in a home",
     {{"/home/u/.cache/tool", W},
      {"/home/u/.cache/tool/a", W},
      {"/home/u/.toolrc", W},
      {"/home/u/notes.txt", R}},
     {"write /home/u/.cache/tool", "write /home/u/.toolrc", "read /home/u/notes.txt"}},
    {"a prefix that is no directory is not shared",
     {{"/srv/w/app1/x", R}, {"/srv/w/app10/y", R}},
     {"read /srv/w"}},
};

static void test_learn_group_cases(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct learn_use uses[8];
		size_t n = 0, n_g = 0, n_want = 0;
		struct learn_grant *g = NULL;
		for (; n < 8 && cases[c].uses[n].path; n++)
			uses[n] = (struct learn_use){.path = cases[c].uses[n].path,
						     .rights = cases[c].uses[n].rights,
						     .count = 1,
						     .why = "x"};
		assert_int_equal(learn_group(uses, n, never, 2, deny, 2, &g, &n_g), 0);
		while (n_want < 8 && cases[c].want[n_want])
			n_want++;
		if (n_g != n_want) {
			for (size_t i = 0; i < n_g; i++)
				print_error("%s: got %d %s\n", cases[c].name, g[i].right,
					    g[i].path);
			fail_msg("%s: %zu grants, want %zu", cases[c].name, n_g, n_want);
		}
		for (size_t i = 0; i < n_g; i++) {
			char got[4200];
			snprintf(got, sizeof(got), "%s %s",
				 g[i].right == LEARN_WRITE  ? "write"
				 : g[i].right == LEARN_EXEC ? "exec"
							    : "read",
				 g[i].path);
			if (strcmp(got, cases[c].want[i]) != 0)
				fail_msg("%s: grant %zu is '%s', want '%s'", cases[c].name, i, got,
					 cases[c].want[i]);
		}
		learn_grants_free(g, n_g);
	}
}

/* What is merged keeps the count of what it covers. */
static void test_learn_group_counts(void **state)
{
	struct learn_use uses[] = {
	    {"/srv/p/a", W, 3, "create /srv/p/a/f"},
	    {"/srv/p/b", W, 4, "create /srv/p/b/g"},
	};
	struct learn_grant *g = NULL;
	size_t n_g = 0;

	(void)state;
	assert_int_equal(learn_group(uses, 2, never, 2, deny, 2, &g, &n_g), 0);
	assert_int_equal(n_g, 1);
	assert_string_equal(g[0].path, "/srv/p");
	assert_int_equal(g[0].count, 7);
	assert_int_equal(g[0].n_uses, 2);
	assert_string_equal(g[0].why, "create /srv/p/a/f");
	learn_grants_free(g, n_g);
}

/* A run that needed nothing beyond the base. */
static void test_learn_group_nothing(void **state)
{
	struct learn_grant *g = NULL;
	size_t n_g = 1;

	(void)state;
	assert_int_equal(learn_group(NULL, 0, never, 2, deny, 2, &g, &n_g), 0);
	assert_int_equal(n_g, 0);
	learn_grants_free(g, n_g);
}

static void test_learn_grantable(void **state)
{
	(void)state;
	assert_false(learn_grantable("/", never, 2, deny, 2));
	assert_false(learn_grantable("/home", never, 2, deny, 2));
	assert_false(learn_grantable("/home/u", never, 2, deny, 2));
	assert_false(learn_grantable("/home/u/.ssh/x", never, 2, deny, 2));
	assert_false(learn_grantable("relative", never, 2, deny, 2));
	assert_true(learn_grantable("/home/u/.cache", never, 2, deny, 2));
	assert_true(learn_grantable("/home/uu", never, 2, deny, 2));
	assert_true(learn_grantable("/etc/ssl", never, 2, deny, 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_learn_group_cases), cmocka_unit_test(test_learn_group_counts),
	    cmocka_unit_test(test_learn_group_nothing), cmocka_unit_test(test_learn_grantable)};
	return cmocka_run_group_tests_name("learn", tests, NULL, NULL);
}
