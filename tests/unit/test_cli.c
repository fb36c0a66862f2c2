/* SPDX-License-Identifier: MIT */
/* Command-line parsing, table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "../../supervisor/supervisor.h"

struct cli_case {
	const char *name;
	const char *argv[10];
	int ok;
	enum cli_command cmd;
	const char *policy;
	size_t n_overrides;
	const char *first_arg;
	const char *err_part;
};

static const struct cli_case cases[] = {
    {"plain", {"rf", "--", "true"}, 1, CLI_RUN, NULL, 0, "true", NULL},
    {"no dashdash", {"rf", "ls", "-l"}, 1, CLI_RUN, NULL, 0, "ls", NULL},
    {"policy", {"rf", "-p", "x.ini", "--", "true"}, 1, CLI_RUN, "x.ini", 0, "true", NULL},
    {"policy=", {"rf", "--policy=y.ini", "true"}, 1, CLI_RUN, "y.ini", 0, "true", NULL},
    {"overrides",
     {"rf", "--allow-write", "/a", "--allow-read=/b", "-n", "true"},
     1,
     CLI_RUN,
     NULL,
     3,
     "true",
     NULL},
    {"network grants",
     {"rf", "--allow-domain", "a.test", "--allow-cidr=10.0.0.0/8", "true"},
     1,
     CLI_RUN,
     NULL,
     2,
     "true",
     NULL},
    {"command options are not ours",
     {"rf", "--", "ls", "--allow-write", "/x"},
     1,
     CLI_RUN,
     NULL,
     0,
     "ls",
     NULL},
    {"check", {"rf", "check", "a.ini", "b.ini"}, 1, CLI_CHECK, NULL, 0, "a.ini", NULL},
    {"explain", {"rf", "explain", "-p", "a.ini"}, 1, CLI_EXPLAIN, "a.ini", 0, NULL, NULL},
    {"probe", {"rf", "probe"}, 1, CLI_PROBE, NULL, 0, NULL, NULL},
    {"no command", {"rf", "-p", "x.ini"}, 0, 0, NULL, 0, NULL, "no command"},
    {"unknown option", {"rf", "--frobnicate", "true"}, 0, 0, NULL, 0, NULL, "unknown option"},
    {"missing value", {"rf", "--allow-write"}, 0, 0, NULL, 0, NULL, "needs a value"},
    {"-p twice", {"rf", "-p", "a", "-p", "b", "true"}, 0, 0, NULL, 0, NULL, "twice"},
    {"check without files", {"rf", "check"}, 0, 0, NULL, 0, NULL, "at least one"},
    {"learn -o",
     {"rf", "learn", "-o", "n.ini", "-p", "b.ini", "--", "make"},
     1,
     CLI_LEARN,
     "b.ini",
     0,
     "make",
     NULL},
    {"learn --output=",
     {"rf", "learn", "--output=n.ini", "--force", "make"},
     1,
     CLI_LEARN,
     NULL,
     0,
     "make",
     NULL},
    {"learn without -o", {"rf", "learn", "--", "make"}, 0, 0, NULL, 0, NULL, "learn needs -o"},
    {"learn -o without a command",
     {"rf", "learn", "-o", "n.ini"},
     0,
     0,
     NULL,
     0,
     NULL,
     "needs a command"},
    {"learn -o and --from",
     {"rf", "learn", "-o", "n.ini", "--from", "a.jsonl", "--", "x"},
     0,
     0,
     NULL,
     0,
     NULL,
     "not both"},
    {"learn --force without -o",
     {"rf", "learn", "--force", "--from", "a.jsonl"},
     0,
     0,
     NULL,
     0,
     NULL,
     "--force goes with -o"},
    {"learn -o with no file", {"rf", "learn", "-o"}, 0, 0, NULL, 0, NULL, "needs the file"},
    {"explain with extra", {"rf", "explain", "x"}, 0, 0, NULL, 0, NULL, "unexpected"},
};

static void test_cli_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct cli_case *c = &cases[i];
		int argc = 0;
		while (c->argv[argc])
			argc++;
		struct cli cli;
		char err[256] = "";
		int r = cli_parse(argc, (char **)c->argv, &cli, err, sizeof(err));
		if (c->ok) {
			if (r != 0) {
				print_error("%s: %s\n", c->name, err);
				fail();
			}
			assert_int_equal(cli.command, c->cmd);
			if (c->policy)
				assert_string_equal(cli.policy_path, c->policy);
			else
				assert_null(cli.policy_path);
			assert_int_equal(cli.n_overrides, c->n_overrides);
			if (c->first_arg)
				assert_string_equal(cli.argv[0], c->first_arg);
			cli_free(&cli);
		} else {
			if (r == 0 || !strstr(err, c->err_part)) {
				print_error("%s: r=%d err=%s\n", c->name, r, err);
				fail();
			}
		}
	}
}

/* --trace and --log - are flags of the run, not policy overrides. */
static const struct {
	const char *name;
	const char *argv[10];
	int ok;
	bool trace, log_live;
	size_t n_overrides;
} flag_cases[] = {
    {"trace", {"rf", "--trace", "true"}, 1, true, false, 0},
    {"live log", {"rf", "--log", "-", "--", "true"}, 1, false, true, 0},
    {"live log=", {"rf", "--log=-", "--trace", "true"}, 1, true, true, 0},
    {"a log file stays an override", {"rf", "--log", "a.log", "true"}, 1, false, false, 1},
    {"trace takes no value", {"rf", "--trace=yes", "true"}, 0, false, false, 0},
};

static void test_cli_flags(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(flag_cases) / sizeof(flag_cases[0]); i++) {
		int argc = 0;
		while (flag_cases[i].argv[argc])
			argc++;
		struct cli cli;
		char err[256] = "";
		int r = cli_parse(argc, (char **)flag_cases[i].argv, &cli, err, sizeof(err));
		if (!flag_cases[i].ok) {
			if (r == 0) {
				print_error("%s: accepted\n", flag_cases[i].name);
				fail();
			}
			continue;
		}
		if (r != 0) {
			print_error("%s: %s\n", flag_cases[i].name, err);
			fail();
		}
		assert_int_equal(cli.trace, flag_cases[i].trace);
		assert_int_equal(cli.log_live, flag_cases[i].log_live);
		assert_int_equal(cli.n_overrides, flag_cases[i].n_overrides);
		assert_string_equal(cli.argv[0], "true");
		cli_free(&cli);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_cli_cases),
					   cmocka_unit_test(test_cli_flags)};
	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
