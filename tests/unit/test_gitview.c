/* SPDX-License-Identifier: MIT */
/* What is carried back from the sandbox's view of .git: only the names git
 * keeps in its root as data, and only in git's own formats.  Anything that
 * could point git elsewhere or hold a command is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../supervisor/supervisor.h"

#define OID1 "0123456789abcdef0123456789abcdef01234567"
#define OID2 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_names_carried(void **state)
{
	static const struct {
		const char *name;
		bool carried;
	} cases[] = {
	    {"index", true},
	    {"HEAD", true},
	    {"ORIG_HEAD", true},
	    {"FETCH_HEAD", true},
	    {"MERGE_HEAD", true},
	    {"packed-refs", true},
	    {"COMMIT_EDITMSG", true},
	    {"sharedindex." OID1, true},
	    {"sharedindex." OID2, true},
	    /* pointers elsewhere, configuration, command lists */
	    {"commondir", false},
	    {"config", false},
	    {"config.worktree", false},
	    {"gitdir", false},
	    {"rebase-merge", false},
	    {"sequencer", false},
	    {"hooks", false},
	    {"index.lock", false},
	    {"sharedindex.", false},
	    {"sharedindex.zz", false},
	    {"sharedindex." OID1 ".lock", false},
	    {"head", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (gitview_carried(cases[i].name) != cases[i].carried)
			fail_msg("%s", cases[i].name);
	}
}

static void test_content_checked(void **state)
{
	static const struct {
		const char *name;
		const char *content;
		size_t len; /* 0: strlen */
		bool ok;
	} cases[] = {
	    {"HEAD", "ref: refs/heads/main\n", 0, true},
	    {"HEAD", OID1 "\n", 0, true},
	    {"HEAD", OID2 "\n", 0, true},
	    {"HEAD", "ref: refs/heads/main", 0, false}, /* no newline */
	    {"HEAD", "ref: ../../../evil\n", 0, false},
	    {"HEAD", "ref: refs/../config\n", 0, false},
	    {"HEAD", "ref: HEAD\n", 0, false},
	    {"HEAD", OID1 "\n" OID1 "\n", 0, false}, /* one id only */
	    {"HEAD", "0123\n", 0, false},
	    {"HEAD", "", 0, false},
	    {"ORIG_HEAD", OID1 "\n", 0, true},
	    {"MERGE_HEAD", OID1 "\n" OID1 "\n", 0, true},
	    {"MERGE_HEAD", OID1 "x\n", 0, false},
	    {"FETCH_HEAD", OID1 "\t\tbranch 'main' of /r\n", 0, true},
	    {"FETCH_HEAD", "", 0, true},
	    {"FETCH_HEAD", "[core]\n", 0, false},
	    {"packed-refs",
	     "# pack-refs with: peeled fully-peeled sorted \n" OID1 " refs/heads/main\n^" OID1 "\n",
	     0, true},
	    {"packed-refs", OID1 " refs/heads/a b\n", 0, false},
	    {"packed-refs", OID1 " HEAD\n", 0, false},
	    {"packed-refs", "[core]\n\tfsmonitor = x\n", 0, false},
	    {"index", "DIRC\0\0\0\2\0\0\0\0", 12, true},
	    {"index", "DIRC\0\0\0\4\0\0\0\1", 12, true},
	    {"index", "DIRC\0\0\0\5\0\0\0\0", 12, false},
	    {"index", "[core]\n\tfsmonitor", 12, false},
	    {"index", "DIRC", 4, false},
	    {"sharedindex." OID1, "DIRC\0\0\0\2\0\0\0\0", 12, true},
	    {"COMMIT_EDITMSG", "anything\n", 0, true},
	    {"commondir", "/elsewhere\n", 0, false},
	    {"config.worktree", "[core]\n", 0, false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = cases[i].len ? cases[i].len : strlen(cases[i].content);
		if (gitview_content_ok(cases[i].name, cases[i].content, n) != cases[i].ok)
			fail_msg("%s: '%s'", cases[i].name, cases[i].content);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names_carried),
	    cmocka_unit_test(test_content_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
