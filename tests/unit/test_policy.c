/* SPDX-License-Identifier: MIT */
/* The policy parser, expansion and error messages.  Table-driven. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../policy/policy.h"

static int load(const char *text, struct policy **p, struct policy_error *err)
{
	memset(err, 0, sizeof(*err));
	return policy_load_string("t.ini", text, NULL, p, err);
}

/* ---- every bad input names file, line and key --------------------------- */

struct bad_case {
	const char *name;
	const char *text;
	unsigned line;
	const char *key;
	const char *msg_part;
};

static const struct bad_case bad_cases[] = {
    {"unknown section", "[sandbox]\n[filesytem]\nread = /usr\n", 2, "",
     "did you mean [filesystem]"},
    {"empty unknown section", "[sandbox]\n[proces]\n", 2, "", "did you mean [process]"},
    /* inih drops what follows ']': the deny would go unread */
    {"a setting on a section's line", "[sandbox]\n[filesystem] deny = /etc/passwd\n", 2, "",
     "text after the section's ']'"},
    {"a bare CR after a section", "[filesystem]\rdeny = /etc/passwd\n", 1, "",
     "text after the section's ']'"},
    {"a vertical tab before a section", "[sandbox]\n\v[filesystem] deny = /etc/passwd\n", 2, "",
     "text after the section's ']'"},
    {"a form feed before a section", "[sandbox]\n\f[filesystem] deny = /etc/passwd\n", 2, "",
     "text after the section's ']'"},
    {"unknown key with suggestion", "[filesystem]\nwrit = /tmp\n", 2, "filesystem.writ",
     "did you mean 'write'"},
    {"unknown key, nothing near", "[process]\nzzzzzz = 1\n", 2, "process.zzzzzz", "unknown key"},
    {"relative path", "[filesystem]\nread = usr/lib\n", 2, "filesystem.read",
     "not an absolute path"},
    {"bad enum", "[sandbox]\nenforcement = strikt\n", 2, "sandbox.enforcement",
     "did you mean 'strict'"},
    {"bad bool", "[filesystem]\nprivate_tmp = maybe\n", 2, "filesystem.private_tmp", "yes or no"},
    {"scalar twice", "[network]\nmode = none\nmode = host\n", 3, "network.mode", "set twice"},
    {"syntax", "[filesystem]\nread /usr\n", 2, "", "syntax error"},
    {"outside section", "read = /usr\n", 1, "read", "outside of any [section]"},
    {"non-ascii domain", "[network]\nallow = bücher.de\n", 2, "network.allow", "punycode"},
    {"ip in allow", "[network]\nallow = 10.0.0.1\n", 2, "network.allow", "allow_cidr"},
    {"wildcard in middle", "[network]\nallow = a.*.com\n", 2, "network.allow", "first label"},
    {"bad port", "[network]\nallow = a.com:70000\n", 2, "network.allow", "1 to 65535"},
    {"bad cidr", "[network]\nallow_cidr = 10.0.0.0/33\n", 2, "network.allow_cidr", "0 to 32"},
    {"not a cidr", "[network]\nallow_cidr = ten\n", 2, "network.allow_cidr",
     "is not an address or CIDR block"},
    /* URLs: the host and the scheme's port; with a path, a method and path rule */
    {"path rule with '..'", "[network]\nallow = GET https://api.example.com/a/../b\n", 2,
     "network.allow", "'..' segment"},
    {"path rule with %2F", "[network]\ndeny = https://api.example.com/a%2fb\n", 2, "network.deny",
     "%2F"},
    {"path rule with '//'", "[network]\nallow = https://api.example.com/a//b\n", 2, "network.allow",
     "empty segment"},
    {"path rule with ';'", "[network]\nallow = https://api.example.com/a;b\n", 2, "network.allow",
     "';'"},
    {"path rule with '**' in a segment", "[network]\nallow = https://api.example.com/a**\n", 2,
     "network.allow", "whole segment"},
    {"method list without a URL", "[network]\nallow = GET POST\n", 2, "network.allow",
     "no http:// or https:// URL after it"},
    {"method list before a host", "[network]\nallow = GET api.example.com\n", 2, "network.allow",
     "goes before an http:// or https:// URL"},
    {"method in lower case", "[network]\nallow = get https://api.example.com/x\n", 2,
     "network.allow", "upper case"},
    {"method list before another scheme", "[network]\nallow = GET ftp://a.example.com/x\n", 2,
     "network.allow", "goes before an http:// or https:// URL"},
    {"url with a fragment", "[network]\nallow = https://api.example.com#x\n", 2, "network.allow",
     "fragment"},
    {"url with a user", "[network]\nallow = https://me:pw@api.example.com\n", 2, "network.allow",
     "user name or password"},
    {"url of another scheme", "[network]\nallow = ftp://files.example.com\n", 2, "network.allow",
     "only http:// and https://"},
    {"url without a host", "[network]\nallow = https:///\n", 2, "network.allow", "without a host"},
    {"url with a bad port", "[network]\nallow = https://a.example.com:0/\n", 2, "network.allow",
     "1 to 65535"},
    {"url by address", "[network]\nallow = http://10.0.0.1/\n", 2, "network.allow", "allow_cidr"},
    {"url in deny", "[network]\ndeny = https://a.example.com\n", 2, "network.deny",
     "to deny the whole host write HOST"},
    {"path without a scheme", "[network]\nallow = api.example.com/v1\n", 2, "network.allow",
     "not a path"},
    {"bad hosts", "[network]\nhosts = a.test=nothere\n", 2, "network.hosts", "not an IP"},
    {"server_first without a port", "[network]\nmode = proxy\nserver_first = a.test\n", 3,
     "network.server_first", "needs a port"},
    {"server_first on a web port", "[network]\nmode = proxy\nserver_first = a.test:443\n", 3,
     "network.server_first", "the client speaks first"},
    {"server_first by address", "[network]\nmode = proxy\nserver_first = 10.0.0.1:25\n", 3,
     "network.server_first", "allow_cidr"},
    {"allow_no_sni bad name", "[network]\nmode = proxy\nallow_no_sni = a..b\n", 3,
     "network.allow_no_sni", ""},
    {"allow_no_sni without the proxy", "[network]\nmode = none\nallow_no_sni = a.test\n", 3,
     "network.allow_no_sni", "only with mode = proxy"},
    {"bad env_set", "[process]\nenv_set = 1X=2\n", 2, "process.env_set", "NAME=VALUE"},
    {"bad rlimit", "[process]\nrlimit_nofile = lots\n", 2, "process.rlimit_nofile", "number"},
    {"bad syscall name", "[syscalls]\ndeny = Ptrace!\n", 2, "syscalls.deny", "not a system call"},
    {"allow and deny same syscall", "[syscalls]\ndeny = ptrace\nallow = ptrace\n", 3,
     "syscalls.allow", "also in syscalls.deny"},
    {"unnamed credential", "[credential]\nenv = X\n", 2, "", "needs a name"},
    {"credential without hosts", "[credential gh]\nenv = GH\nsource = env:GH\n", 1,
     "credential.hosts", "needs hosts"},
    {"credential bad source", "[credential gh]\nsource = vault:x\n", 2, "credential.source",
     "env:VARIABLE, file:PATH or cmd:PROGRAM"},
    {"credential cmd without a path", "[credential gh]\nsource = cmd:vault read x\n", 2,
     "credential.source", "'vault' is not an absolute path"},
    {"credential cmd unterminated quote", "[credential gh]\nsource = cmd:/bin/sh -c \"x\n", 2,
     "credential.source", "unterminated quote"},
    {"credential bad inject", "[credential gh]\ninject = header:Content-Length\n", 2,
     "credential.inject", "the proxy writes Content-Length itself"},
    {"credential bad ttl", "[credential gh]\nttl = 10\n", 2, "credential.ttl", "is not a duration"},
    {"credential ttl without cmd",
     "[credential gh]\nenv = GH\nsource = env:GH\nhosts = a.com\nttl = 5m\n", 1, "credential.ttl",
     "for source = cmd: only"},
    {"credential timeout over half the ttl",
     "[credential gh]\nenv = GH\nsource = cmd:/bin/true\nhosts = a.com\nttl = 10s\n"
     "timeout = 6s\n",
     1, "credential.timeout", "at most half of ttl"},
    {"credential default timeout over half the ttl",
     "[credential gh]\nenv = GH\nsource = cmd:/bin/true\nhosts = a.com\nttl = 10s\n", 1,
     "credential.timeout", "(10s unless set) must be at most half"},
    {"two credentials one env",
     "[credential a]\nenv = T\nsource = env:A\nhosts = a.com\n"
     "[credential b]\nenv = T\nsource = env:B\nhosts = b.com\n",
     5, "credential.env", "both set T"},
    {"credential without proxy",
     "[network]\nmode = none\n[credential a]\nenv = T\nsource = env:A\nhosts = a.com\n", 3, "",
     "needs [network] mode = proxy"},
    {"allow with mode none", "[network]\nmode = none\nallow = a.com\n", 3, "network.allow",
     "no effect with mode = none"},
    {"run_as junk", "[process]\nrun_as = a b\n", 2, "process.run_as", "one value"},
    {"unterminated quote", "[filesystem]\nread = \"/a b\n", 2, "filesystem.read", "unterminated"},
    {"include not first", "[sandbox]\nenforcement = strict\ninclude = x.ini\n", 3,
     "sandbox.include", "before any other setting"},
    {"~user", "[filesystem]\nread = ~root/x\n", 2, "filesystem.read", "~user"},
    {"optional and required", "[filesystem]\nread = !?/x\n", 2, "filesystem.read",
     "either required"},
    {"optional deny", "[filesystem]\ndeny = ?/x\n", 2, "filesystem.deny", "grants only"},
    {"optional create", "[filesystem]\ncreate = ?~/x\n", 2, "filesystem.create", "no meaning"},
    {"relative create", "[filesystem]\ncreate = x\n", 2, "filesystem.create",
     "not an absolute path"},
    {"relative private", "[filesystem]\nprivate = .codex\n", 2, "filesystem.private",
     "not an absolute path"},
    {"private_env without =", "[filesystem]\nprivate_env = CODEX_HOME\n", 2,
     "filesystem.private_env", "VAR=PATH"},
    {"private_env relative", "[filesystem]\nprivate_env = A=b\n", 2, "filesystem.private_env",
     "not an absolute path"},
    {"name with a slash", "[sandbox]\nname = a/b\n", 2, "sandbox.name", "letters, digits"},
    {"name dot", "[sandbox]\nname = ..\n", 2, "sandbox.name", "not starting with '.'"},
    {"name twice", "[sandbox]\nname = a\nname = b\n", 3, "sandbox.name", "set twice"},
    /* the proxy's timers: a unit, and never longer than the default */
    {"timer without a unit", "[network]\nfirst_bytes_timeout = 30\n", 2,
     "network.first_bytes_timeout", "not a duration from 100ms to 30s"},
    {"timer in another unit", "[network]\nclient_timeout = 1m\n", 2, "network.client_timeout",
     "not a duration"},
    {"timer past its default", "[network]\nconnect_timeout = 10001ms\n", 2,
     "network.connect_timeout", "from 100ms to 10s"},
    {"timer far past its default", "[network]\ndns_timeout = 99999999999999999999999s\n", 2,
     "network.dns_timeout", "from 100ms to 3s"},
    {"timer too short", "[network]\ndns_timeout = 99ms\n", 2, "network.dns_timeout",
     "not a duration"},
    {"timer of zero", "[network]\nfirst_bytes_timeout = 0s\n", 2, "network.first_bytes_timeout",
     "not a duration"},
    {"timer negative", "[network]\nclient_timeout = -5s\n", 2, "network.client_timeout",
     "not a duration"},
    {"timer without a number", "[network]\nclient_timeout = s\n", 2, "network.client_timeout",
     "not a duration"},
    {"timer twice", "[network]\nconnect_timeout = 1s\nconnect_timeout = 2s\n", 3,
     "network.connect_timeout", "set twice"},
    {"timer list", "[network]\nconnect_timeout = 1s 2s\n", 2, "network.connect_timeout",
     "one value"},
    {"placeholder shape", "[credential a]\nplaceholder = short\n", 2, "credential.placeholder",
     "16 to 255"},
};

static void test_bad_inputs_name_file_line_key(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct policy *p = NULL;
		struct policy_error err;
		int r = load(c->text, &p, &err);
		if (r == 0 || p || strcmp(err.file, "t.ini") != 0 || err.line != c->line ||
		    strcmp(err.key, c->key) != 0 || !strstr(err.msg, c->msg_part)) {
			print_error("case '%s': r=%d file=%s line=%u key=%s msg=%s\n", c->name, r,
				    err.file, err.line, err.key, err.msg);
			fail();
		}
	}
}

/* ---- inih 55's traps --------------------------------------------------- */

static void test_long_line_is_refused_not_split(void **state)
{
	(void)state;
	/* inih 55 would parse the tail of this comment as "write = /" */
	char text[1024] = "[filesystem]\n; ";
	for (int i = 0; i < 190; i++)
		strcat(text, "x");
	strcat(text, "write = /\n");
	struct policy *p = NULL;
	struct policy_error err;
	assert_int_not_equal(load(text, &p, &err), 0);
	assert_null(p);
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.msg, "longer than"));
}

static void test_long_section_name_is_refused_not_truncated(void **state)
{
	(void)state;
	struct policy *p = NULL;
	struct policy_error err;
	assert_int_not_equal(
	    load("[credential aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\n", &p,
		 &err),
	    0);
	assert_non_null(strstr(err.msg, "section name longer"));
}

static void test_line_numbers_count_comments_blank_and_crlf(void **state)
{
	(void)state;
	struct policy *p = NULL;
	struct policy_error err;
	assert_int_not_equal(
	    load("; c\r\n\r\n[filesystem]\r\n# x\r\nread = /usr\r\nbogus = 1\r\n", &p, &err), 0);
	assert_int_equal(err.line, 6);
	assert_string_equal(err.key, "filesystem.bogus");
}

static void test_indented_line_is_not_a_continuation(void **state)
{
	(void)state;
	struct policy *p = NULL;
	struct policy_error err;
	/* inih would append "write = /" to read's value; we parse it as a key */
	assert_int_equal(load("[filesystem]\nread = /usr\n    write = /tmp\n", &p, &err), 0);
	assert_int_equal(p->fs.read.n, 1);
	assert_int_equal(p->fs.write.n, 1);
	assert_string_equal(p->fs.write.items[0].value, "/tmp");
	assert_int_equal(p->fs.write.items[0].origin.line, 3);
	policy_free(p);
}

static void test_nul_byte_refused(void **state)
{
	(void)state;
	char path[] = "/tmp/rf-nul-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "[filesystem]\nread = /usr\0/etc\n", 31), 31);
	close(fd);
	struct policy *p = NULL;
	struct policy_error err = {0};
	assert_int_not_equal(policy_load_file(path, &p, &err), 0);
	assert_non_null(strstr(err.msg, "NUL"));
	unlink(path);
}

/* ---- lists, includes, expansion ----------------------------------------- */

static void test_lists_split_append_and_quote(void **state)
{
	(void)state;
	struct policy *p = NULL;
	struct policy_error err;
	assert_int_equal(
	    load("[filesystem]\nread = /usr /etc,/opt\nread = \"/a b\" !/req\n", &p, &err), 0);
	assert_int_equal(p->fs.read.n, 5);
	assert_string_equal(p->fs.read.items[3].value, "/a b");
	assert_true(p->fs.read.items[4].required);
	assert_string_equal(p->fs.read.items[4].value, "/req");
	policy_free(p);
}

static void test_domains_lowercased_trailing_dot_dropped(void **state)
{
	(void)state;
	struct policy *p = NULL;
	struct policy_error err;
	assert_int_equal(
	    load("[network]\nallow = API.Example.COM. *.github.com github.com:443\n", &p, &err), 0);
	assert_string_equal(p->net.allow.items[0].value, "api.example.com");
	assert_string_equal(p->net.allow.items[1].value, "*.github.com");
	assert_string_equal(p->net.allow.items[2].value, "github.com:443");
	policy_free(p);
}

/* The proxy's timers: what is set, the defaults for the rest (which are
 * also the most a policy may set), printed back in the unit it reads. */
static void test_timers(void **state)
{
	(void)state;
	struct policy *p = NULL;
	struct policy_error err;
	char *buf = NULL;
	size_t n = 0;

	assert_int_equal(policy_timer_ms(NULL, POLICY_TIMER_FIRST_BYTES), 30000);
	assert_int_equal(policy_timer_ms(NULL, POLICY_TIMER_CLIENT), 30000);
	assert_int_equal(policy_timer_ms(NULL, POLICY_TIMER_CONNECT), 10000);
	assert_int_equal(policy_timer_ms(NULL, POLICY_TIMER_DNS), 3000);
	assert_int_equal(load("[network]\nfirst_bytes_timeout = 2s\nclient_timeout = 1500ms\n"
			      "connect_timeout = 10s\n",
			      &p, &err),
			 0);
	assert_int_equal(policy_timer_ms(p, POLICY_TIMER_FIRST_BYTES), 2000);
	assert_int_equal(policy_timer_ms(p, POLICY_TIMER_CLIENT), 1500);
	assert_int_equal(policy_timer_ms(p, POLICY_TIMER_CONNECT), 10000);
	assert_int_equal(policy_timer_ms(p, POLICY_TIMER_DNS), 3000);
	FILE *f = open_memstream(&buf, &n);
	policy_print(p, f, NULL, NULL);
	fclose(f);
	assert_non_null(strstr(buf, "\nfirst_bytes_timeout = 2s\n"));
	assert_non_null(strstr(buf, "\nclient_timeout = 1500ms\n"));
	assert_non_null(strstr(buf, "\nconnect_timeout = 10s\n"));
	assert_null(strstr(buf, "dns_timeout"));
	free(buf);
	policy_free(p);
	/* the shortest, and the longest in either unit */
	assert_int_equal(load("[network]\ndns_timeout = 100ms\nfirst_bytes_timeout = 30000ms\n"
			      "client_timeout = 30s\n",
			      &p, &err),
			 0);
	assert_int_equal(policy_timer_ms(p, POLICY_TIMER_DNS), 100);
	assert_int_equal(policy_timer_ms(p, POLICY_TIMER_FIRST_BYTES), 30000);
	assert_int_equal(policy_timer_ms(p, POLICY_TIMER_CLIENT), 30000);
	policy_free(p);
}

/* A method and path rule is kept in one normal form, printed as it is read. */
static void test_http_rules_normal_form(void **state)
{
	static const struct {
		const char *line, *value;
		bool deny;
	} cases[] = {
	    {"allow = GET,HEAD https://API.Example.com./repos/**",
	     "GET,HEAD https://api.example.com/repos/**", false},
	    {"allow = GET, HEAD https://api.example.com", "GET,HEAD https://api.example.com/**",
	     false},
	    {"allow = \"POST PUT https://a.example.com:8443/x?y=*\"",
	     "POST,PUT https://a.example.com:8443/x?y=*", false},
	    {"allow = https://a.example.com/%7Eme/a%3ab/%2A*", "https://a.example.com/~me/a:b/%2A*",
	     false},
	    {"deny = DELETE http://*.example.org/", "DELETE http://*.example.org/**", true},
	    {"deny = https://a.example.com/admin", "https://a.example.com/admin", true},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct policy *p = NULL, *again = NULL;
		struct policy_error err;
		char text[300], *buf = NULL;
		size_t n = 0;
		const struct policy_list *l;
		snprintf(text, sizeof(text), "[network]\nallow = b.example\n%s\n", cases[i].line);
		if (load(text, &p, &err) != 0)
			fail_msg("'%s': %s", cases[i].line, err.msg);
		l = cases[i].deny ? &p->net.deny_http : &p->net.allow_http;
		assert_int_equal(l->n, 1);
		assert_string_equal(l->items[0].value, cases[i].value);
		assert_int_equal(l->items[0].origin.line, 3);
		/* what explain prints reads back the same */
		FILE *f = open_memstream(&buf, &n);
		policy_print(p, f, NULL, NULL);
		fclose(f);
		assert_int_equal(policy_load_string("printed", buf, NULL, &again, &err), 0);
		l = cases[i].deny ? &again->net.deny_http : &again->net.allow_http;
		assert_int_equal(l->n, 1);
		assert_string_equal(l->items[0].value, cases[i].value);
		free(buf);
		policy_free(p);
		policy_free(again);
	}
}

/* A URL in allow is its host and the scheme's port (or its own). */
static void test_url_in_allow_is_host_and_port(void **state)
{
	(void)state;
	static const struct {
		const char *in, *rule;
	} cases[] = {
	    {"https://api.example.com", "api.example.com:443"},
	    {"https://API.Example.com/", "api.example.com:443"},
	    {"http://api.example.com", "api.example.com:80"},
	    {"HTTPS://api.example.com:8443/", "api.example.com:8443"},
	    {"https://*.example.com", "*.example.com:443"},
	    {"https://api.example.com./", "api.example.com:443"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct policy *p = NULL;
		struct policy_error err;
		char text[200];
		snprintf(text, sizeof(text), "[network]\nallow = %s\n", cases[i].in);
		assert_int_equal(load(text, &p, &err), 0);
		assert_int_equal(p->net.allow.n, 1);
		assert_string_equal(p->net.allow.items[0].value, cases[i].rule);
		policy_free(p);
	}
}

static const char *fake_env(const char *name)
{
	if (strcmp(name, "PROJ") == 0)
		return "/srv/proj";
	return NULL;
}

static void test_expansion(void **state)
{
	(void)state;
	struct policy *p = NULL;
	struct policy_error err;
	struct policy_vars v = {.cwd = "/work/x", .home = "/home/u", .getenv = fake_env};
	assert_int_equal(load("[filesystem]\nwrite = ${CWD} ~/.cache ~ ${PROJ}//sub/./dir/\n"
			      "[process]\nenv_set = A=${HOME}/bin B=~\n",
			      &p, &err),
			 0);
	assert_int_equal(policy_expand(p, &v, &err), 0);
	assert_string_equal(p->fs.write.items[0].value, "/work/x");
	assert_string_equal(p->fs.write.items[1].value, "/home/u/.cache");
	assert_string_equal(p->fs.write.items[2].value, "/home/u");
	assert_string_equal(p->fs.write.items[3].value, "/srv/proj/sub/dir");
	assert_string_equal(p->process.env_set.items[0].value, "A=/home/u/bin");
	assert_string_equal(p->process.env_set.items[1].value, "B=~");
	policy_free(p);
}

/* create, private, private_seed, private_env and '?' */
static void test_state_keys(void **state)
{
	(void)state;
	struct policy *p = NULL;
	struct policy_error err;
	struct policy_vars v = {.cwd = "/work/x", .home = "/home/u", .getenv = fake_env};
	assert_int_equal(
	    load("[sandbox]\nname = my-agent.v2\n"
		 "[filesystem]\nread = ?~/.nvm !/usr\nwrite = ?/a\n"
		 "create = ~/.gemini ${CWD}/build/out\n"
		 "private = ~/.claude.json ~/.codex/\nprivate_seed = ~/.gemini/settings.json\n"
		 "private_env = CODEX_HOME=~/.codex\n",
		 &p, &err),
	    0);
	assert_int_equal(policy_expand(p, &v, &err), 0);
	assert_string_equal(p->name, "my-agent.v2");
	assert_true(p->fs.read.items[0].optional);
	assert_false(p->fs.read.items[0].required);
	assert_string_equal(p->fs.read.items[0].value, "/home/u/.nvm");
	assert_true(p->fs.read.items[1].required);
	assert_false(p->fs.read.items[1].optional);
	assert_true(p->fs.write.items[0].optional);
	assert_string_equal(p->fs.create.items[0].value, "/home/u/.gemini");
	assert_string_equal(p->fs.create.items[1].value, "/work/x/build/out");
	assert_false(p->fs.private_.items[0].is_dir);
	assert_true(p->fs.private_.items[1].is_dir);
	assert_string_equal(p->fs.private_.items[1].value, "/home/u/.codex");
	assert_string_equal(p->fs.private_seed.items[0].value, "/home/u/.gemini/settings.json");
	assert_string_equal(p->fs.private_env.items[0].value, "CODEX_HOME=/home/u/.codex");
	/* printed back so that it reads the same */
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	policy_print(p, f, NULL, NULL);
	fclose(f);
	assert_non_null(strstr(buf, "read = ?/home/u/.nvm"));
	assert_non_null(strstr(buf, "private = /home/u/.codex/"));
	assert_non_null(strstr(buf, "private = /home/u/.claude.json    ;"));
	assert_non_null(strstr(buf, "private_env = CODEX_HOME=/home/u/.codex"));
	assert_non_null(strstr(buf, "name = my-agent.v2"));
	free(buf);
	policy_free(p);
}

/* where state may be made: checked once ~ and ${CWD} are known */
static void test_state_paths_refused(void **state)
{
	(void)state;
	static const struct {
		const char *text, *key, *msg;
	} cases[] = {
	    {"[filesystem]\ncreate = /etc/x\n", "filesystem.create", "outside the home"},
	    {"[filesystem]\ncreate = ~\n", "filesystem.create", "outside the home"},
	    {"[filesystem]\ncreate = ${CWD}\n", "filesystem.create", "outside the home"},
	    {"[filesystem]\ncreate = /home/u2/x\n", "filesystem.create", "outside the home"},
	    {"[filesystem]\nprivate = /etc/passwd\n", "filesystem.private", "not beneath the home"},
	    {"[filesystem]\nprivate = ~\n", "filesystem.private", "not beneath the home"},
	    {"[filesystem]\nprivate_seed = ${CWD}/x\n", "filesystem.private_seed",
	     "not beneath the home"},
	    {"[filesystem]\nprivate = ~/.codex/ ~/.codex/config.toml\n", "filesystem.private",
	     "inside the private path"},
	    {"[filesystem]\nprivate_env = CODEX_HOME=~/.other\nprivate = ~/.codex\n",
	     "filesystem.private_env", "not a private path"},
	};
	struct policy_vars v = {.cwd = "/work/x", .home = "/home/u", .getenv = fake_env};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct policy *p = NULL;
		struct policy_error err;
		assert_int_equal(load(cases[i].text, &p, &err), 0);
		if (policy_expand(p, &v, &err) == 0 || err.line != 2 ||
		    strcmp(err.key, cases[i].key) != 0 || !strstr(err.msg, cases[i].msg)) {
			print_error("case %zu: line=%u key=%s msg=%s\n", i, err.line, err.key,
				    err.msg);
			fail();
		}
		policy_free(p);
	}
	/* the home as "/" anchors nothing */
	struct policy *p = NULL;
	struct policy_error err;
	struct policy_vars root = {.cwd = "/", .home = "/", .getenv = fake_env};
	assert_int_equal(load("[filesystem]\ncreate = /x\n", &p, &err), 0);
	assert_int_not_equal(policy_expand(p, &root, &err), 0);
	policy_free(p);
}

static void test_undefined_variable_is_an_error(void **state)
{
	(void)state;
	struct policy *p = NULL;
	struct policy_error err;
	struct policy_vars v = {.cwd = "/w", .home = "/h", .getenv = fake_env};
	assert_int_equal(load("[filesystem]\n\nread = ${NOPE}/x\n", &p, &err), 0);
	assert_int_not_equal(policy_expand(p, &v, &err), 0);
	assert_int_equal(err.line, 3);
	assert_string_equal(err.key, "filesystem.read");
	assert_non_null(strstr(err.msg, "${NOPE} is not defined"));
	policy_free(p);
}

static void test_dotdot_refused(void **state)
{
	(void)state;
	struct policy *p = NULL;
	struct policy_error err;
	struct policy_vars v = {.cwd = "/w", .home = "/h", .getenv = fake_env};
	assert_int_equal(load("[filesystem]\nwrite = ${CWD}/../etc\n", &p, &err), 0);
	assert_int_not_equal(policy_expand(p, &v, &err), 0);
	assert_non_null(strstr(err.msg, "'..'"));
	policy_free(p);
}

static char tmpdir[64];

static void write_text(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_include_merges_first_and_overrides(void **state)
{
	(void)state;
	char path[256];
	struct policy *p = NULL;
	struct policy_error err = {0};
	write_text("base.ini", "[sandbox]\nenforcement = best-effort\n[filesystem]\nread = /usr\n");
	write_text(
	    "top.ini",
	    "[sandbox]\ninclude = base.ini\nenforcement = strict\n[filesystem]\nread = /etc\n");
	snprintf(path, sizeof(path), "%s/top.ini", tmpdir);
	assert_int_equal(policy_load_file(path, &p, &err), 0);
	assert_int_equal(p->enforcement, POLICY_ENFORCE_STRICT);
	assert_int_equal(p->fs.read.n, 2);
	assert_string_equal(p->fs.read.items[0].value, "/usr");
	assert_int_equal(p->n_files, 2);
	/* origins point at the right file */
	assert_non_null(strstr(p->fs.read.items[0].origin.file, "base.ini"));
	assert_int_equal(p->fs.read.items[0].origin.line, 4);
	policy_free(p);
}

/* Each file read is recorded from the descriptor read (owner, mode, dev,
 * ino), with every directory above it up to /, walked by ".." from the
 * one it was opened in; a symbolic link in the path is never followed;
 * a policy from a string records nothing to trust. */
static void test_file_stats_from_the_descriptor_read(void **state)
{
	(void)state;
	char dir[128], path[512], link[256], cwd[PATH_MAX];
	struct policy *p = NULL;
	struct policy_error err = {0};
	struct stat top, inc, d, t, root;

	snprintf(dir, sizeof(dir), "%s/d", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(chmod(dir, 0777), 0);
	write_text("d/top.ini", "[sandbox]\ninclude = inc.ini\n");
	write_text("d/inc.ini", "[filesystem]\nread = /usr\n");
	snprintf(path, sizeof(path), "%s/top.ini", dir);
	assert_int_equal(stat(path, &top), 0);
	snprintf(link, sizeof(link), "%s/inc.ini", dir);
	assert_int_equal(stat(link, &inc), 0);
	assert_int_equal(stat(dir, &d), 0);
	assert_int_equal(stat(tmpdir, &t), 0);
	assert_int_equal(stat("/", &root), 0);
	assert_int_equal(policy_load_file(path, &p, &err), 0);
	assert_int_equal(p->n_files, 2);
	for (size_t i = 0; i < 2; i++) {
		const struct policy_file_stat *fs = &p->file_stats[i];
		const struct stat *want = i == 0 ? &top : &inc;
		assert_true(fs->read);
		assert_int_equal(fs->dev, want->st_dev);
		assert_int_equal(fs->ino, want->st_ino);
		assert_int_equal(fs->uid, want->st_uid);
		assert_int_equal(fs->mode, want->st_mode);
		assert_int_equal(fs->dirs_err, 0);
		/* d, rf-unit-XXXXXX, tmp, / */
		assert_int_equal(fs->n_dirs, 4);
		assert_int_equal(fs->dirs[0].mode, d.st_mode);
		assert_int_equal(fs->dirs[0].mode & 0777, 0777);
		assert_int_equal(fs->dirs[1].mode, t.st_mode);
		assert_int_equal(fs->dirs[3].uid, root.st_uid);
		assert_int_equal(fs->dirs[3].mode, root.st_mode);
	}
	policy_free(p);
	p = NULL;
	/* a name without a directory: the working directory's */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(policy_load_file("top.ini", &p, &err), 0);
	assert_int_equal(chdir(cwd), 0);
	assert_true(p->file_stats[0].read);
	assert_int_equal(p->file_stats[0].ino, top.st_ino);
	assert_int_equal(p->file_stats[0].n_dirs, 4);
	assert_int_equal(p->file_stats[0].dirs[0].mode, d.st_mode);
	policy_free(p);
	p = NULL;
	/* a directory in the path that is a symbolic link is never followed */
	snprintf(link, sizeof(link), "%s/l", tmpdir);
	assert_int_equal(symlink(dir, link), 0);
	snprintf(path, sizeof(path), "%s/top.ini", link);
	assert_int_not_equal(policy_load_file(path, &p, &err), 0);
	assert_non_null(strstr(err.msg, "symbolic link"));
	assert_null(p);
	/* a policy from a string: nothing read, nothing to trust */
	assert_int_equal(policy_load_string("s.ini", "[filesystem]\nread = /usr\n", NULL, &p, &err),
			 0);
	assert_int_equal(p->n_files, 1);
	assert_false(p->file_stats[0].read);
	assert_int_equal(p->file_stats[0].n_dirs, 0);
	policy_free(p);
}

static void test_include_cycle_is_an_error(void **state)
{
	(void)state;
	char path[256];
	struct policy *p = NULL;
	struct policy_error err = {0};
	write_text("a.ini", "[sandbox]\ninclude = b.ini\n");
	write_text("b.ini", "[sandbox]\ninclude = a.ini\n");
	snprintf(path, sizeof(path), "%s/a.ini", tmpdir);
	assert_int_not_equal(policy_load_file(path, &p, &err), 0);
	assert_null(p);
	assert_non_null(strstr(err.msg, "cycle"));
	assert_non_null(strstr(err.file, "b.ini"));
	assert_int_equal(err.line, 2);
}

static void test_error_in_included_file_names_it(void **state)
{
	(void)state;
	char path[256];
	struct policy *p = NULL;
	struct policy_error err = {0};
	write_text("inc-bad.ini", "[process]\n\nrun_ass = x\n");
	write_text("inc-top.ini", "[sandbox]\ninclude = inc-bad.ini\n");
	snprintf(path, sizeof(path), "%s/inc-top.ini", tmpdir);
	assert_int_not_equal(policy_load_file(path, &p, &err), 0);
	assert_non_null(strstr(err.file, "inc-bad.ini"));
	assert_int_equal(err.line, 3);
	assert_string_equal(err.key, "process.run_ass");
}

static void test_missing_file(void **state)
{
	(void)state;
	struct policy *p = NULL;
	struct policy_error err = {0};
	assert_int_not_equal(policy_load_file("/nonexistent/x.ini", &p, &err), 0);
	assert_string_equal(err.file, "/nonexistent/x.ini");
	assert_non_null(strstr(err.msg, "No such file"));
}

static void test_default_policy_loads(void **state)
{
	(void)state;
	struct policy *p = NULL;
	struct policy_error err = {0};
	assert_int_equal(policy_load_default(&p, &err), 0);
	assert_int_equal(p->net.mode, POLICY_NET_NONE);
	assert_true(p->fs.private_tmp);
	assert_true(p->fs.write.n > 0);
	policy_free(p);
}

static void test_overrides(void **state)
{
	(void)state;
	struct policy *p = NULL;
	struct policy_error err;
	struct policy_vars v = {.cwd = "/w", .home = "/h", .getenv = fake_env};
	assert_int_equal(load("[network]\nmode = none\n", &p, &err), 0);
	assert_int_equal(policy_override(p, POLICY_OVERRIDE_WRITE, "rel/dir", &err), 0);
	/* a network grant on top of a policy without network: the proxy,
	 * and 1 so that the caller says so */
	assert_int_equal(policy_override(p, POLICY_OVERRIDE_DOMAIN, "https://A.com/", &err), 1);
	assert_int_equal(p->net.mode, POLICY_NET_PROXY);
	assert_int_equal(policy_override(p, POLICY_OVERRIDE_CIDR, "10.1.0.0/16", &err), 0);
	assert_string_equal(p->net.allow.items[p->net.allow.n - 1].value, "a.com:443");
	assert_string_equal(p->net.allow_cidr.items[p->net.allow_cidr.n - 1].value, "10.1.0.0/16");
	assert_int_not_equal(policy_override(p, POLICY_OVERRIDE_DOMAIN, "a.com/x", &err), 0);
	assert_string_equal(err.key, "--allow-domain");
	assert_non_null(strstr(err.msg, "not a path"));
	assert_int_not_equal(policy_override(p, POLICY_OVERRIDE_CIDR, "10.1.0.0/40", &err), 0);
	assert_string_equal(err.key, "--allow-cidr");
	assert_int_equal(policy_expand(p, &v, &err), 0);
	assert_string_equal(p->fs.write.items[0].value, "/w/rel/dir");
	policy_free(p);
	/* -n and a grant contradict; mode = host needs none */
	assert_int_equal(load("[network]\nmode = proxy\n", &p, &err), 0);
	assert_int_equal(policy_override(p, POLICY_OVERRIDE_NO_NETWORK, "", &err), 0);
	assert_int_not_equal(policy_override(p, POLICY_OVERRIDE_CIDR, "10.0.0.1", &err), 0);
	assert_non_null(strstr(err.msg, "-n"));
	policy_free(p);
	assert_int_equal(load("[network]\nmode = host\n", &p, &err), 0);
	assert_int_not_equal(policy_override(p, POLICY_OVERRIDE_DOMAIN, "a.com", &err), 0);
	assert_non_null(strstr(err.msg, "mode = host"));
	policy_free(p);
}

/* A grant at or beneath a deny grants nothing: an error naming both. */
static void test_grant_beneath_deny_is_an_error(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int ok;
		unsigned line;
	} cases[] = {
	    {"[filesystem]\ndeny = ~/.ssh\nread = ~/.ssh/known_hosts\n", 0, 3},
	    {"[filesystem]\ndeny = ~/.ssh\nwrite = ~/.ssh\n", 0, 3},
	    {"[filesystem]\ndeny = /srv/a\nexec = /srv/a/bin\n", 0, 3},
	    {"[filesystem]\ndeny = ~/.ssh\nread = ~ ~/.sshx ~/.ss\n", 1, 0},
	    {"[filesystem]\ndeny = /srv/a/b\nread = /srv/a\n", 1, 0},
	};
	struct policy_vars v = {.cwd = "/w", .home = "/h", .getenv = fake_env};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct policy *p = NULL;
		struct policy_error err = {0};
		assert_int_equal(load(cases[i].text, &p, &err), 0);
		int r = policy_expand(p, &v, &err);
		if (cases[i].ok) {
			assert_int_equal(r, 0);
		} else {
			assert_int_not_equal(r, 0);
			assert_int_equal(err.line, cases[i].line);
			assert_non_null(strstr(err.key, "filesystem."));
			assert_non_null(strstr(err.msg, "deny = "));
			assert_non_null(strstr(err.msg, "which wins"));
		}
		policy_free(p);
	}
}

static void test_did_you_mean(void **state)
{
	(void)state;
	static const char *const c[] = {"read", "write", "exec"};
	assert_string_equal(policy_did_you_mean("wirte", c, 3), "write");
	assert_string_equal(policy_did_you_mean("READ", c, 3), "read");
	assert_null(policy_did_you_mean("network", c, 3));
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/rf-unit-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_inputs_name_file_line_key),
	    cmocka_unit_test(test_long_line_is_refused_not_split),
	    cmocka_unit_test(test_long_section_name_is_refused_not_truncated),
	    cmocka_unit_test(test_line_numbers_count_comments_blank_and_crlf),
	    cmocka_unit_test(test_indented_line_is_not_a_continuation),
	    cmocka_unit_test(test_nul_byte_refused),
	    cmocka_unit_test(test_lists_split_append_and_quote),
	    cmocka_unit_test(test_domains_lowercased_trailing_dot_dropped),
	    cmocka_unit_test(test_expansion),
	    cmocka_unit_test(test_state_keys),
	    cmocka_unit_test(test_state_paths_refused),
	    cmocka_unit_test(test_undefined_variable_is_an_error),
	    cmocka_unit_test(test_dotdot_refused),
	    cmocka_unit_test(test_include_merges_first_and_overrides),
	    cmocka_unit_test(test_include_cycle_is_an_error),
	    cmocka_unit_test(test_file_stats_from_the_descriptor_read),
	    cmocka_unit_test(test_error_in_included_file_names_it),
	    cmocka_unit_test(test_missing_file),
	    cmocka_unit_test(test_default_policy_loads),
	    cmocka_unit_test(test_overrides),
	    cmocka_unit_test(test_url_in_allow_is_host_and_port),
	    cmocka_unit_test(test_http_rules_normal_form),
	    cmocka_unit_test(test_timers),
	    cmocka_unit_test(test_grant_beneath_deny_is_an_error),
	    cmocka_unit_test(test_did_you_mean),
	};
	return cmocka_run_group_tests_name("policy", tests, setup, teardown);
}
