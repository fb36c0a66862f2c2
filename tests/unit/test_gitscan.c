/* SPDX-License-Identifier: MIT */
/* What a repository's configuration points git at outside its git
 * directory (gitscan_config_pointers()): core.hooksPath and the include
 * paths, found as git finds them, and nothing else taken for them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../supervisor/supervisor.h"

struct seen {
	char text[512];
};

static void add(void *ud, enum git_pointer kind, const char *value)
{
	struct seen *s = ud;
	size_t n = strlen(s->text);

	snprintf(s->text + n, sizeof(s->text) - n, "%s%s=%s", n ? " " : "",
		 kind == PTR_HOOKS ? "hooks" : "include", value);
}

static void test_pointers(void **state)
{
	static const struct {
		const char *config, *want;
	} cases[] = {
	    {"", ""},
	    {"[core]\n\thooksPath = .githooks\n", "hooks=.githooks"},
	    /* names are case-blind, a value's quotes dropped, comments cut */
	    {"[CORE]\n\tHOOKSPATH=\"tools/hooks\"\n", "hooks=tools/hooks"},
	    {"[core]\n\thookspath = h ; why\n", "hooks=h"},
	    {"[include]\n\tpath = ../shared.gitconfig\n", "include=../shared.gitconfig"},
	    {"[includeIf \"gitdir:~/w/\"]\n\tpath = ~/w.gitconfig\n", "include=~/w.gitconfig"},
	    {"[core]\n\thooksPath = a\n[include]\n\tpath = b\n", "hooks=a include=b"},
	    /* not these */
	    {"[core]\n\tfsmonitor = x\n", ""},
	    {"[remote \"o\"]\n\tpath = x\n", ""},
	    {"[core]\n\thooksPathX = x\n", ""},
	    {"[corex]\n\thooksPath = x\n", ""},
	    /* what this reading cannot follow plainly is passed over */
	    {"[core]\n\thooksPath = a\\\\b\n", ""},
	    {"[core]\n\thooksPath = \"unterminated\n", ""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct seen s = {""};
		gitscan_config_pointers(cases[i].config, strlen(cases[i].config), add, &s);
		if (strcmp(s.text, cases[i].want) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, s.text, cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pointers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
