/* SPDX-License-Identifier: MIT */
/* The configuration of a repository made during the run: only the keys git
 * init and git clone write pass; anything that could hide a key (quoting,
 * continuation lines, a key after a header) refuses the file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../supervisor/supervisor.h"

#define CLONE_CONFIG                                                                               \
	"[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n"               \
	"\tlogallrefupdates = true\n[remote \"origin\"]\n\turl = https://example.com/r.git\n"      \
	"\tfetch = +refs/heads/*:refs/remotes/origin/*\n[branch \"main\"]\n"                       \
	"\tremote = origin\n\tmerge = refs/heads/main\n"

static void test_config_keys(void **state)
{
	static const struct {
		const char *text;
		bool ok;
	} cases[] = {
	    {"", true},
	    {CLONE_CONFIG, true},
	    {"# a comment\n; another\n[core]\n\tbare\n", true},
	    {"[CORE]\n\tFileMode = false\r\n", true},
	    {"[extensions]\n\tobjectFormat = sha256\n", true},
	    {"[branch.main]\n\tremote = origin\n", true}, /* the old subsection form */
	    /* what runs a command or points elsewhere */
	    {"[core]\n\tfsmonitor = /tmp/x\n", false},
	    {"[core]\n\thooksPath = /tmp\n", false},
	    {"[core]\n\tsshCommand = x\n", false},
	    {"[core]\n\tpager = x\n", false},
	    {"[alias]\n\tst = !x\n", false},
	    {"[include]\n\tpath = /tmp/c\n", false},
	    {"[includeIf \"gitdir:/\"]\n\tpath = /tmp/c\n", false},
	    {"[filter \"lfs\"]\n\tprocess = x\n", false},
	    {"[diff \"x\"]\n\ttextconv = x\n", false},
	    {"[submodule \"s\"]\n\tupdate = !x\n", false},
	    {"[remote \"o\"]\n\tuploadpack = x\n", false},
	    {"[remote]\n\turl = x\n", false},	      /* remote without a name */
	    {"[core \"x\"]\n\tbare = true\n", false}, /* core with one */
	    /* hiding a key from a simpler reading */
	    {"[core] fsmonitor = x\n", false},
	    {"[core]\n\tbare = true \\\n\tfsmonitor = x\n", false},
	    {"[core]\n\tbare = \"true\"\n", false},
	    {"[remote \"o\\\"x\"]\n\turl = x\n", false},
	    {"fsmonitor = x\n", false}, /* a key before any section */
	    {"[core\n\tbare = true\n", false},
	    {"[]\n\tbare = true\n", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (protwatch_config_ok(cases[i].text, strlen(cases[i].text)) != cases[i].ok)
			fail_msg("case %zu: %s", i, cases[i].text);
	}
	/* a NUL: git stops reading a line there, this reading must not */
	static const char nul[] = "[core]\n\tbare = true\0\n[core]\n\tfsmonitor = x\n";
	assert_false(protwatch_config_ok(nul, sizeof(nul) - 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
