/* SPDX-License-Identifier: MIT */
/* The --trace judgement: which refusal, and which key would allow it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../supervisor/supervisor.h"

/* Paths that do not exist here: the judgement never needs them to. */
static const char policy_text[] = "[filesystem]\n"
				  "read = ?/nonexistent-rf/r\n"
				  "write = ?/nonexistent-rf/w\n"
				  "exec = ?/nonexistent-rf/x\n"
				  "deny = /nonexistent-rf/r/secret\n";

struct judge_case {
	const char *name;
	const char *target, *check;
	uint64_t need;
	bool ro_mount;
	bool refused;
	enum fs_why why;
	const char *key, *value;
};

#define R "/nonexistent-rf/r"
#define W "/nonexistent-rf/w"
#define X "/nonexistent-rf/x"

static const struct judge_case cases[] = {
    {"read in a read grant", R "/f", R "/f", LL_FS_READ_FILE, false, false, 0, NULL, NULL},
    {"write in a read grant", R "/f", R "/f", LL_FS_WRITE_FILE, false, true, FS_WHY_NOT_GRANTED,
     "write", R "/f"},
    {"truncate needs write", R "/f", R "/f", LL_FS_TRUNCATE, false, true, FS_WHY_NOT_GRANTED,
     "write", R "/f"},
    {"read outside every grant", "/elsewhere/f", "/elsewhere/f", LL_FS_READ_FILE, false, true,
     FS_WHY_NOT_GRANTED, "read", "/elsewhere/f"},
    {"listing outside every grant", "/elsewhere", "/elsewhere", LL_FS_READ_DIR, false, true,
     FS_WHY_NOT_GRANTED, "read", "/elsewhere"},
    {"exec in a read grant", R "/t", R "/t", LL_FS_EXECUTE, false, true, FS_WHY_NOT_GRANTED, "exec",
     R "/t"},
    {"exec in an exec grant", X "/t", X "/t", LL_FS_EXECUTE, false, false, 0, NULL, NULL},
    {"create names the directory", R "/new", R, LL_FS_MAKE_REG, false, true, FS_WHY_NOT_GRANTED,
     "write", R},
    {"remove in a write grant", W "/src/f", W "/src", LL_FS_REMOVE_FILE, false, false, 0, NULL,
     NULL},
    {"deny wins over the read grant", R "/secret", R "/secret", LL_FS_READ_FILE, false, true,
     FS_WHY_DENIED, "deny", R "/secret"},
    {"deny wins beneath it, for a create", R "/secret/new", R "/secret", LL_FS_MAKE_REG, false,
     true, FS_WHY_DENIED, "deny", R "/secret"},
    {"a read-only mount refuses a write the plan allows", W "/src/f", W "/src/f", LL_FS_WRITE_FILE,
     true, true, FS_WHY_KEPT, NULL, ""},
    {"a read-only mount does not refuse a read", R "/f", R "/f", LL_FS_READ_FILE, true, false, 0,
     NULL, NULL},
    {"a read-only mount outside write grants: grant it", R "/f", R "/f", LL_FS_WRITE_FILE, true,
     true, FS_WHY_NOT_GRANTED, "write", R "/f"},
    {"a carve-out in a write grant is kept, not granted", W "/.git/config", W "/.git/config",
     LL_FS_WRITE_FILE, false, true, FS_WHY_KEPT, NULL, ""},
};

static void test_judge_cases(void **state)
{
	struct policy *p = NULL;
	struct policy_error err = {0};
	struct sandbox sb = {0};
	char *deny[1] = {strdup(R "/secret")};

	(void)state;
	assert_int_equal(policy_load_string("t.ini", policy_text, NULL, &p, &err), 0);
	sb.policy = p;
	sb.deny_canon = deny;
	landlock_caps_for_abi(7, &sb.ll);
	/* the write grant split around a carve-out at W/.git, as plan.c does */
	assert_int_equal(landlock_plan_add(&sb.plan, R, LANDLOCK_READ), 0);
	assert_int_equal(landlock_plan_add(&sb.plan, W "/src", LANDLOCK_WRITE), 0);
	assert_int_equal(landlock_plan_add(&sb.plan, W, LANDLOCK_READ), 0);
	assert_int_equal(landlock_plan_add(&sb.plan, W "/.git", LANDLOCK_READ_ONLY), 0);
	assert_int_equal(landlock_plan_add(&sb.plan, X, LANDLOCK_EXEC), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct judge_case *c = &cases[i];
		struct fs_verdict v = {0};
		bool got = fstrace_judge(&sb, c->target, c->check, c->need, c->ro_mount, &v);
		if (got != c->refused) {
			print_error("%s: refused=%d\n", c->name, got);
			fail();
		}
		if (!got)
			continue;
		if (v.why != c->why || (c->key ? !v.key || strcmp(v.key, c->key) : v.key != NULL) ||
		    strcmp(v.value, c->value) != 0) {
			print_error("%s: why=%d key=%s value=%s\n", c->name, v.why,
				    v.key ? v.key : "(null)", v.value);
			fail();
		}
	}
	/* without Landlock nothing is refused, whatever the plan says */
	struct fs_verdict v;
	sb.ll.abi = 0;
	assert_false(
	    fstrace_judge(&sb, "/elsewhere/f", "/elsewhere/f", LL_FS_READ_FILE, false, &v));
	landlock_plan_free(&sb.plan);
	free(deny[0]);
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_judge_cases)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
