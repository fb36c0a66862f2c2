/* SPDX-License-Identifier: MIT */
/* The Landlock grant planner on temporary trees, and its enforcement. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../landlock/landlock.h"

static char root[64];

static void mk(const char *rel, bool dir)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (dir)
		assert_int_equal(mkdir(p, 0755), 0);
	else {
		int fd = open(p, O_CREAT | O_WRONLY, 0644);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "data", 4), 4);
		close(fd);
	}
}

static const char *P(const char *rel)
{
	static char bufs[8][256];
	static int i;
	char *b = bufs[i++ % 8];
	snprintf(b, 256, "%s%s%s", root, rel[0] ? "/" : "", rel);
	return b;
}

static uint64_t rights_of(const struct landlock_plan *plan, const char *path)
{
	for (size_t i = 0; i < plan->n; i++)
		if (strcmp(plan->rules[i].path, path) == 0)
			return plan->rules[i].access;
	return 0;
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/rf-plan-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	char *canon = realpath(root, NULL);
	snprintf(root, sizeof(root), "%s", canon);
	free(canon);
	mk("home", true);
	mk("home/.ssh", true);
	mk("home/.ssh/id_rsa", false);
	mk("home/.bashrc", false);
	mk("home/proj", true);
	mk("home/proj/.git", true);
	mk("home/proj/.git/config", false);
	mk("home/proj/.git/HEAD", false);
	mk("home/proj/src.c", false);
	mk("home/notes.txt", false);
	char link[256];
	snprintf(link, sizeof(link), "%s/home/link-to-root", root);
	assert_int_equal(symlink("/", link), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_plain_grants_one_rule_each(void **state)
{
	(void)state;
	struct landlock_grant g[] = {{P("home"), LANDLOCK_READ, false},
				     {P("home/proj"), LANDLOCK_WRITE, false}};
	struct landlock_plan plan;
	const char *failed;
	assert_int_equal(landlock_plan(g, 2, NULL, 0, NULL, NULL, &plan, &failed), 0);
	assert_int_equal(plan.n, 2);
	assert_int_equal(rights_of(&plan, P("home")), LANDLOCK_READ);
	assert_int_equal(rights_of(&plan, P("home/proj")), LANDLOCK_WRITE);
	landlock_plan_free(&plan);
}

static void test_deny_carves_out_and_siblings_keep_the_grant(void **state)
{
	(void)state;
	struct landlock_grant g[] = {{P("home"), LANDLOCK_WRITE, false}};
	struct landlock_carveout c[] = {{P("home/.ssh"), 0, false, false}};
	struct landlock_plan plan;
	const char *failed;
	assert_int_equal(landlock_plan(g, 1, c, 1, NULL, NULL, &plan, &failed), 0);
	/* nothing at or beneath the denied path */
	assert_false(landlock_plan_allows(&plan, P("home/.ssh"), LL_FS_READ_DIR));
	assert_false(landlock_plan_allows(&plan, P("home/.ssh/id_rsa"), LL_FS_READ_FILE));
	/* siblings keep everything; files get file rights only */
	assert_true(landlock_plan_allows(&plan, P("home/proj/src.c"),
					 LANDLOCK_WRITE & LANDLOCK_FILE_RIGHTS));
	assert_true(landlock_plan_allows(&plan, P("home/proj"), LANDLOCK_WRITE));
	assert_int_equal(rights_of(&plan, P("home/notes.txt")),
			 LANDLOCK_WRITE & LANDLOCK_FILE_RIGHTS);
	/* the split directory itself gets only what the carve-out allows */
	assert_int_equal(rights_of(&plan, P("home")), 0);
	/* a symlink entry gets no rule (its target keeps its own) */
	assert_int_equal(rights_of(&plan, P("home/link-to-root")), 0);
	landlock_plan_free(&plan);
}

/* A link on the way to a deny path is held itself (NOFOLLOW): the
 * directory holding it is split (read-only), what it points to is not
 * touched; without NOFOLLOW the carve-out would land on the target. */
static void test_nofollow_carve_out_holds_the_link_not_its_target(void **state)
{
	(void)state;
	struct landlock_grant g[] = {{P("home"), LANDLOCK_WRITE, false},
				     {P("home/proj"), LANDLOCK_WRITE, false}};
	struct landlock_carveout c[] = {{P("home/link-to-root"), LANDLOCK_READ_ONLY, false, true}};
	struct landlock_plan plan;
	const char *failed;
	assert_int_equal(landlock_plan(g, 2, c, 1, NULL, NULL, &plan, &failed), 0);
	assert_int_equal(plan.n_carveouts, 1);
	assert_string_equal(plan.carveouts[0].path, P("home/link-to-root"));
	/* the link's directory keeps reading, loses making and removing */
	assert_int_equal(rights_of(&plan, P("home")), LANDLOCK_WRITE & LANDLOCK_READ_ONLY);
	assert_true(landlock_plan_allows(&plan, P("home/proj"), LANDLOCK_WRITE));
	assert_true(landlock_plan_allows(&plan, P("home/notes.txt"),
					 LANDLOCK_WRITE & LANDLOCK_FILE_RIGHTS));
	landlock_plan_free(&plan);
	/* no link there (any more): nothing to hold */
	struct landlock_carveout c2[] = {{P("home/proj"), LANDLOCK_READ_ONLY, false, true}};
	assert_int_equal(landlock_plan(g, 2, c2, 1, NULL, NULL, &plan, &failed), 0);
	assert_int_equal(plan.n_carveouts, 0);
	assert_int_equal(rights_of(&plan, P("home/proj")), LANDLOCK_WRITE);
	landlock_plan_free(&plan);
}

static void test_protect_keeps_reading_drops_writing(void **state)
{
	(void)state;
	struct landlock_grant g[] = {{P("home/proj"), LANDLOCK_WRITE, false}};
	struct landlock_carveout c[] = {
	    {P("home/proj/.git/config"), LANDLOCK_READ_ONLY, false, false}};
	struct landlock_plan plan;
	const char *failed;
	assert_int_equal(landlock_plan(g, 1, c, 1, NULL, NULL, &plan, &failed), 0);
	assert_true(landlock_plan_allows(&plan, P("home/proj/.git/config"), LL_FS_READ_FILE));
	assert_false(landlock_plan_allows(&plan, P("home/proj/.git/config"), LL_FS_WRITE_FILE));
	assert_false(landlock_plan_allows(&plan, P("home/proj/.git/config"), LL_FS_TRUNCATE));
	assert_true(landlock_plan_allows(&plan, P("home/proj/.git/HEAD"), LL_FS_WRITE_FILE));
	assert_true(landlock_plan_allows(&plan, P("home/proj/src.c"), LL_FS_WRITE_FILE));
	/* the cost: the directories on the way may not remove entries */
	assert_false(landlock_plan_allows(&plan, P("home/proj/.git"), LL_FS_REMOVE_FILE));
	landlock_plan_free(&plan);
}

static void test_absent_protect_keeps_its_directory_from_new_entries(void **state)
{
	(void)state;
	struct landlock_grant g[] = {{P("home/proj"), LANDLOCK_WRITE, false}};
	/* neither exists; the second's nearest directory is .git */
	struct landlock_carveout c[] = {
	    {P("home/proj/.git/hooks/pre-commit"), LANDLOCK_READ_ONLY, true, false},
	    {P("home/proj/hook.sh"), LANDLOCK_READ_ONLY, false, false}};
	struct landlock_plan plan;
	const char *failed;
	assert_int_equal(landlock_plan(g, 1, c, 2, NULL, NULL, &plan, &failed), 0);
	/* .git and the directories on the way get no new entries */
	assert_false(landlock_plan_allows(&plan, P("home/proj/.git"), LL_FS_MAKE_DIR));
	assert_false(landlock_plan_allows(&plan, P("home/proj/.git"), LL_FS_MAKE_REG));
	assert_false(landlock_plan_allows(&plan, P("home/proj"), LL_FS_MAKE_DIR));
	/* what exists there keeps the grant */
	assert_true(landlock_plan_allows(&plan, P("home/proj/.git/HEAD"), LL_FS_WRITE_FILE));
	assert_true(landlock_plan_allows(&plan, P("home/proj/src.c"), LL_FS_WRITE_FILE));
	/* without absent_too a missing path is no carve-out: nothing else split */
	landlock_plan_free(&plan);
	struct landlock_grant g2[] = {{P("home/proj"), LANDLOCK_WRITE, false}};
	struct landlock_carveout c2[] = {
	    {P("home/proj/hook.sh"), LANDLOCK_READ_ONLY, false, false}};
	assert_int_equal(landlock_plan(g2, 1, c2, 1, NULL, NULL, &plan, &failed), 0);
	assert_true(landlock_plan_allows(&plan, P("home/proj"), LL_FS_MAKE_REG));
	landlock_plan_free(&plan);
}

static void test_grant_inside_deny_gets_nothing(void **state)
{
	(void)state;
	struct landlock_grant g[] = {{P("home/.ssh"), LANDLOCK_READ, false}};
	struct landlock_carveout c[] = {{P("home/.ssh"), 0, false, false}};
	struct landlock_plan plan;
	const char *failed;
	assert_int_equal(landlock_plan(g, 1, c, 1, NULL, NULL, &plan, &failed), 0);
	assert_false(landlock_plan_allows(&plan, P("home/.ssh/id_rsa"), LL_FS_READ_FILE));
	landlock_plan_free(&plan);
}

static int notes;
static void count_note(void *ud, const char *path, const char *why)
{
	(void)ud;
	(void)path;
	(void)why;
	notes++;
}

static void test_final_symlink_is_not_followed(void **state)
{
	(void)state;
	struct landlock_grant g[] = {{P("home/link-to-root"), LANDLOCK_WRITE, false}};
	struct landlock_plan plan;
	const char *failed;
	notes = 0;
	assert_int_equal(landlock_plan(g, 1, NULL, 0, count_note, NULL, &plan, &failed), 0);
	assert_int_equal(plan.n, 0);
	assert_int_equal(notes, 1);
	landlock_plan_free(&plan);
	g[0].required = true;
	assert_int_equal(landlock_plan(g, 1, NULL, 0, NULL, NULL, &plan, &failed), -ELOOP);
	assert_string_equal(failed, P("home/link-to-root"));
}

static void test_missing_path_skipped_unless_required(void **state)
{
	(void)state;
	struct landlock_grant g[] = {{P("nope"), LANDLOCK_READ, false}};
	struct landlock_plan plan;
	const char *failed;
	assert_int_equal(landlock_plan(g, 1, NULL, 0, NULL, NULL, &plan, &failed), 0);
	assert_int_equal(plan.n, 0);
	landlock_plan_free(&plan);
	g[0].required = true;
	assert_int_equal(landlock_plan(g, 1, NULL, 0, NULL, NULL, &plan, &failed), -ENOENT);
}

static void test_abi_fallthrough(void **state)
{
	(void)state;
	struct landlock_caps c;
	uint64_t mf, ms;
	landlock_caps_for_abi(1, &c);
	assert_false(c.fs & LL_FS_REFER);
	assert_false(c.fs & LL_FS_TRUNCATE);
	assert_int_equal(c.scopes, 0);
	landlock_missing(&c, LANDLOCK_WRITE, LANDLOCK_ALL_SCOPES, &mf, &ms);
	/* REFER is never missing: ABI 1 refuses all reparenting */
	assert_false(mf & LL_FS_REFER);
	assert_true(mf & LL_FS_TRUNCATE);
	assert_true(mf & LL_FS_IOCTL_DEV);
	landlock_caps_for_abi(3, &c);
	assert_true(c.fs & LL_FS_TRUNCATE);
	assert_false(c.net_tcp);
	landlock_caps_for_abi(4, &c);
	assert_true(c.net_tcp);
	assert_false(c.fs & LL_FS_IOCTL_DEV);
	landlock_caps_for_abi(6, &c);
	assert_int_equal(c.scopes, LANDLOCK_ALL_SCOPES);
	landlock_caps_for_abi(7, &c);
	landlock_missing(&c, LANDLOCK_WRITE, LANDLOCK_ALL_SCOPES, &mf, &ms);
	assert_int_equal(mf, 0);
	assert_int_equal(ms, 0);
	/* a future ABI is used as the newest we know */
	struct landlock_caps c9;
	landlock_caps_for_abi(9, &c9);
	assert_memory_equal(&c9.fs, &c.fs, sizeof(c.fs));
	landlock_caps_for_abi(0, &c);
	assert_int_equal(c.fs, 0);
}

/* The plan, enforced in a forked child: the kernel agrees with the planner. */
static void test_plan_enforced_by_kernel(void **state)
{
	(void)state;
	int abi = landlock_probe_abi();
	if (abi < 1) {
		print_message("SKIP: no Landlock on this kernel\n");
		skip();
	}
	struct landlock_grant g[] = {{P("home"), LANDLOCK_WRITE, false},
				     {"/usr", LANDLOCK_EXEC, false}};
	struct landlock_carveout c[] = {
	    {P("home/.ssh"), 0, false, false},
	    {P("home/proj/.git/config"), LANDLOCK_READ_ONLY, false, false}};
	struct landlock_plan plan;
	struct landlock_caps caps;
	const char *failed;
	landlock_caps_for_abi(abi, &caps);
	assert_int_equal(landlock_plan(g, 2, c, 2, NULL, NULL, &plan, &failed), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = landlock_build(&plan, &caps, false, &failed);
		if (fd < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    landlock_restrict(fd, &caps) < 0)
			_exit(10);
		if (open(P("home/.ssh/id_rsa"), O_RDONLY) >= 0 || errno != EACCES)
			_exit(11);
		if (open(P("home/proj/.git/config"), O_WRONLY) >= 0 || errno != EACCES)
			_exit(12);
		if (open(P("home/proj/.git/config"), O_RDONLY) < 0)
			_exit(13);
		if (open(P("home/proj/src.c"), O_WRONLY) < 0)
			_exit(14);
		if (open("/etc/hostname", O_RDONLY) >= 0 || errno != EACCES)
			_exit(15);
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	landlock_plan_free(&plan);
}

/* An entry listed while splitting a grant, removed by another process
 * before the rules are opened (a file in /tmp), is skipped: there is
 * nothing left to grant.  An explicit grant that vanished still fails
 * (the control). */
static void test_a_vanished_sibling_is_skipped_a_vanished_grant_is_not(void **state)
{
	(void)state;
	int abi = landlock_probe_abi();
	if (abi < 1) {
		print_message("SKIP: no Landlock on this kernel\n");
		skip();
	}
	mk("home/gone-soon", false);
	mk("home/grant-gone", true);
	struct landlock_grant g[] = {{P("home"), LANDLOCK_WRITE, false},
				     {P("home/grant-gone"), LANDLOCK_READ, false}};
	struct landlock_carveout c[] = {{P("home/.ssh"), 0, false, false}};
	struct landlock_plan plan;
	struct landlock_caps caps;
	const char *failed;
	landlock_caps_for_abi(abi, &caps);
	assert_int_equal(landlock_plan(g, 2, c, 1, NULL, NULL, &plan, &failed), 0);
	assert_int_equal(rights_of(&plan, P("home/gone-soon")),
			 LANDLOCK_WRITE & LANDLOCK_FILE_RIGHTS);
	for (size_t i = 0; i < plan.n; i++) {
		if (strcmp(plan.rules[i].path, P("home/gone-soon")) == 0)
			assert_true(plan.rules[i].sibling);
		if (strcmp(plan.rules[i].path, P("home/grant-gone")) == 0)
			assert_false(plan.rules[i].sibling); /* named by a grant too */
	}
	assert_int_equal(unlink(P("home/gone-soon")), 0);
	int fd = landlock_build(&plan, &caps, false, &failed);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(rmdir(P("home/grant-gone")), 0);
	assert_int_equal(landlock_build(&plan, &caps, false, &failed), -ENOENT);
	assert_string_equal(failed, P("home/grant-gone"));
	landlock_plan_free(&plan);
}

/* What lies beneath a directory, as the plan and the case check of the
 * write grants take it: / holds every path (a review found the case
 * check's own test missing the mounts beneath a grant on /). */
static void test_path_beneath(void **state)
{
	(void)state;
	assert_true(landlock_path_beneath("/tmp/x", "/"));
	assert_true(landlock_path_beneath("/", "/"));
	assert_true(landlock_path_beneath("/tmp/x", "/tmp"));
	assert_true(landlock_path_beneath("/tmp", "/tmp"));
	assert_false(landlock_path_beneath("/tmpx", "/tmp"));
	assert_false(landlock_path_beneath("/tmp", "/tmp/x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_grants_one_rule_each),
	    cmocka_unit_test(test_path_beneath),
	    cmocka_unit_test(test_deny_carves_out_and_siblings_keep_the_grant),
	    cmocka_unit_test(test_nofollow_carve_out_holds_the_link_not_its_target),
	    cmocka_unit_test(test_protect_keeps_reading_drops_writing),
	    cmocka_unit_test(test_absent_protect_keeps_its_directory_from_new_entries),
	    cmocka_unit_test(test_grant_inside_deny_gets_nothing),
	    cmocka_unit_test(test_final_symlink_is_not_followed),
	    cmocka_unit_test(test_missing_path_skipped_unless_required),
	    cmocka_unit_test(test_abi_fallthrough),
	    cmocka_unit_test(test_plan_enforced_by_kernel),
	    cmocka_unit_test(test_a_vanished_sibling_is_skipped_a_vanished_grant_is_not),
	};
	return cmocka_run_group_tests_name("landlock-plan", tests, setup, teardown);
}
