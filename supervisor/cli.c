/* SPDX-License-Identifier: MIT */
/* Command-line parsing: pure, unit-tested in tests/unit/test_cli.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor.h"

void cli_usage(FILE *out)
{
	fputs("usage: ringfence [-p POLICY] [--allow-read PATH]... [--allow-write PATH]...\n"
	      "                 [--allow-exec PATH]... [--deny PATH]... [--allow-domain D]...\n"
	      "                 [--allow-cidr ADDR[/BITS]]...\n"
	      "                 [-n|--no-network] [--log FILE|-] [--trace] [-v]\n"
	      "                 [--] COMMAND [ARG]...\n"
	      "       ringfence check POLICY...\n"
	      "       ringfence explain [-p POLICY] [OPTIONS]\n"
	      "       ringfence probe\n"
	      "       ringfence learn --from AUDIT.jsonl [-p POLICY]\n"
	      "       ringfence learn -o NEW.ini [--force] [--intercept] [-p BASE.ini] -- COMMAND "
	      "[ARG]...\n"
	      "\n"
	      "Runs COMMAND under Landlock, seccomp and a privilege drop as POLICY says\n"
	      "(without -p: the built-in default, printed by 'ringfence explain').\n"
	      "Exit status: COMMAND's own; 128+N if it died of signal N; 125 when ringfence\n"
	      "failed; 126 not executable; 127 not found.\n",
	      out);
}

static const struct {
	const char *name;
	enum policy_override what;
	bool takes_value;
} long_opts[] = {
    {"--allow-read", POLICY_OVERRIDE_READ, true},
    {"--allow-write", POLICY_OVERRIDE_WRITE, true},
    {"--allow-exec", POLICY_OVERRIDE_EXEC, true},
    {"--deny", POLICY_OVERRIDE_DENY, true},
    {"--allow-domain", POLICY_OVERRIDE_DOMAIN, true},
    {"--allow-cidr", POLICY_OVERRIDE_CIDR, true},
    {"--log", POLICY_OVERRIDE_LOG, true},
    {"--no-network", POLICY_OVERRIDE_NO_NETWORK, false},
};

static int add_override(struct cli *c, enum policy_override what, const char *value)
{
	struct cli_override *o = realloc(c->overrides, (c->n_overrides + 1) * sizeof(*o));

	if (!o)
		return -ENOMEM;
	c->overrides = o;
	o[c->n_overrides++] = (struct cli_override){what, value};
	return 0;
}

/* learn's own options at ARGV[*I] (*I moves past a value): 1 taken, 0 not
 * one of them, -1 with ERR. */
static int learn_option(struct cli *c, int argc, char **argv, int *ip, char *err, size_t err_size)
{
	const char *a = argv[*ip];
	int i = *ip;

	if (strcmp(a, "--from") == 0 || strncmp(a, "--from=", 7) == 0) {
		if (a[6] == '=')
			c->learn_from = a + 7;
		else if (i + 1 < argc)
			c->learn_from = argv[++i];
		else {
			snprintf(err, err_size, "--from needs an audit log");
			return -1;
		}
		*ip = i;
		return 1;
	}
	if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 || strncmp(a, "--output=", 9) == 0) {
		if (a[1] == '-' && a[8] == '=')
			c->learn_out = a + 9;
		else if (i + 1 < argc)
			c->learn_out = argv[++i];
		else {
			snprintf(err, err_size, "%s needs the file to write the policy to", a);
			return -1;
		}
		if (!c->learn_out[0]) {
			snprintf(err, err_size, "%s needs the file to write the policy to", a);
			return -1;
		}
		*ip = i;
		return 1;
	}
	if (strcmp(a, "--force") == 0) {
		c->learn_force = true;
		*ip = i;
		return 1;
	}
	if (strcmp(a, "--intercept") == 0) {
		c->learn_intercept = true;
		*ip = i;
		return 1;
	}
	return 0;
}

/* What the options and the arguments left make together: -1 with ERR
 * when the command line does not make sense. */
static int check_usage(const struct cli *c, char *err, size_t err_size)
{
	if (c->command == CLI_RUN && c->argc == 0) {
		snprintf(err, err_size,
			 "no command given (usage: ringfence [OPTIONS] -- COMMAND [ARG]...)");
		return -1;
	}
	if (c->command == CLI_CHECK && c->argc == 0) {
		snprintf(err, err_size, "check needs at least one policy file");
		return -1;
	}
	if (c->command == CLI_LEARN && c->learn_from && c->learn_out) {
		snprintf(err, err_size,
			 "learn takes --from AUDIT.jsonl or -o NEW.ini -- COMMAND, "
			 "not both");
		return -1;
	}
	if (c->command == CLI_LEARN && !c->learn_from && !c->learn_out) {
		snprintf(err, err_size,
			 c->argc ? "learn needs -o NEW.ini (the policy to write)"
				 : "learn needs --from AUDIT.jsonl (a run's audit log) "
				   "or -o NEW.ini -- COMMAND");
		return -1;
	}
	if (c->command == CLI_LEARN && c->learn_out && c->argc == 0) {
		snprintf(err, err_size, "learn -o needs a command (learn -o NEW.ini -- COMMAND)");
		return -1;
	}
	if (c->command == CLI_LEARN && c->learn_intercept && !c->learn_out) {
		snprintf(err, err_size, "--intercept goes with -o (it reads HTTPS while learning)");
		return -1;
	}
	if (c->command == CLI_LEARN && c->learn_force && !c->learn_out) {
		snprintf(err, err_size, "--force goes with -o (it lets -o replace a file)");
		return -1;
	}
	if ((c->command == CLI_EXPLAIN || c->command == CLI_PROBE ||
	     (c->command == CLI_LEARN && c->learn_from)) &&
	    c->argc > 0) {
		snprintf(err, err_size, "unexpected argument '%s'", c->argv[0]);
		return -1;
	}
	return 0;
}

/* Long: one pass over ARGV, a short branch for each option (learn's apart,
 * the policy overrides from long_opts[]), then check_usage(). */
int cli_parse(int argc, char **argv, struct cli *ret, char *err, size_t err_size)
{
	struct cli c = {.command = CLI_RUN};
	int i = 1;

	if (argc >= 2) {
		if (strcmp(argv[1], "check") == 0) {
			c.command = CLI_CHECK;
			i = 2;
		} else if (strcmp(argv[1], "explain") == 0) {
			c.command = CLI_EXPLAIN;
			i = 2;
		} else if (strcmp(argv[1], "probe") == 0) {
			c.command = CLI_PROBE;
			i = 2;
		} else if (strcmp(argv[1], "learn") == 0) {
			c.command = CLI_LEARN;
			i = 2;
		}
	}
	for (; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		bool matched = false;

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-' || a[1] == '\0')
			break;
		if (c.command == CLI_CHECK) {
			snprintf(err, err_size, "check takes policy files, not '%s'", a);
			goto fail;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			c.command = CLI_HELP;
			continue;
		}
		if (strcmp(a, "--version") == 0) {
			c.command = CLI_VERSION;
			continue;
		}
		if (c.command == CLI_LEARN) {
			int l = learn_option(&c, argc, argv, &i, err, err_size);
			if (l < 0)
				goto fail;
			if (l > 0)
				continue;
		}
		if (strcmp(a, "--trace") == 0) {
			c.trace = true;
			continue;
		}
		/* --log -: the events on stderr as they happen (the policy's
		 * log file, if any, is still written) */
		if (strcmp(a, "--log=-") == 0 ||
		    (strcmp(a, "--log") == 0 && i + 1 < argc && strcmp(argv[i + 1], "-") == 0)) {
			i += strcmp(a, "--log") == 0;
			c.log_live = true;
			continue;
		}
		if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			c.verbose++;
			continue;
		}
		if (strcmp(a, "-n") == 0) {
			if (add_override(&c, POLICY_OVERRIDE_NO_NETWORK, "") < 0)
				goto oom;
			continue;
		}
		if (strcmp(a, "-p") == 0 || strcmp(a, "--policy") == 0 ||
		    strncmp(a, "--policy=", 9) == 0) {
			if (strncmp(a, "--policy=", 9) == 0)
				val = a + 9;
			else if (i + 1 < argc)
				val = argv[++i];
			else {
				snprintf(err, err_size, "%s needs a policy file", a);
				goto fail;
			}
			if (c.policy_path) {
				snprintf(err, err_size, "-p given twice");
				goto fail;
			}
			c.policy_path = val;
			continue;
		}
		for (size_t k = 0; k < ARRAY_SIZE(long_opts); k++) {
			size_t n = strlen(long_opts[k].name);
			if (strncmp(a, long_opts[k].name, n) != 0 || (a[n] != '\0' && a[n] != '='))
				continue;
			matched = true;
			if (!long_opts[k].takes_value) {
				if (a[n] == '=') {
					snprintf(err, err_size, "%s takes no value",
						 long_opts[k].name);
					goto fail;
				}
				val = "";
			} else if (a[n] == '=') {
				val = a + n + 1;
			} else if (i + 1 < argc) {
				val = argv[++i];
			} else {
				snprintf(err, err_size, "%s needs a value", long_opts[k].name);
				goto fail;
			}
			if (add_override(&c, long_opts[k].what, val) < 0)
				goto oom;
			break;
		}
		if (!matched) {
			snprintf(err, err_size, "unknown option '%s' (see ringfence --help)", a);
			goto fail;
		}
	}
	c.argv = argv + i;
	c.argc = argc - i;
	if (check_usage(&c, err, err_size) < 0)
		goto fail;
	*ret = c;
	return 0;
oom:
	snprintf(err, err_size, "out of memory");
fail:
	free(c.overrides);
	return -EINVAL;
}

void cli_free(struct cli *cli)
{
	free(cli->overrides);
	cli->overrides = NULL;
}
