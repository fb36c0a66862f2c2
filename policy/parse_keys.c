/* SPDX-License-Identifier: MIT */
/*
 * The sections of a policy and their keys (parse.c has the picture): the
 * table of each section's keys (tests/integration/test_man_pages.py reads
 * them: each is in ringfence.ini(5)), what each key sets in the draft
 * policy, and inih's handler, which hands a key to its section's.  How a
 * value is read is in parse_values.c and parse_net.c.
 */
#include <ctype.h>
#include <limits.h>
#include <string.h>

#include "../common/macros.h"
#include "parse_internal.h"

/* ---- sections and keys ------------------------------------------------- */

static const char *const section_names[] = {
    "sandbox", "filesystem", "network", "credential NAME", "process", "syscalls", "log",
};
static const char *const keys_sandbox[] = {"include", "enforcement", "namespaces", "name"};
static const char *const keys_filesystem[] = {"read",	      "exec",	     "write",  "deny",
					      "protect",      "private_tmp", "create", "private",
					      "private_seed", "private_env"};
static const char *const keys_network[] = {"mode",
					   "isolation",
					   "allow",
					   "deny",
					   "private",
					   "allow_cidr",
					   "hosts",
					   "upstream_ca",
					   "allow_no_sni",
					   "server_first",
					   "unix_connect",
					   "memory_max",
					   "first_bytes_timeout",
					   "client_timeout",
					   "connect_timeout",
					   "dns_timeout",
					   "capture"};
static const char *const keys_credential[] = {"env",	  "source",    "hosts",	 "placeholder",
					      "optional", "plaintext", "inject", "require",
					      "ttl",	  "timeout"};
static const char *const keys_process[] = {"run_as",	    "env_keep",	    "env_set",
					   "rlimit_nofile", "rlimit_nproc", "rlimit_core",
					   "rlimit_fsize",  "rlimit_as",    "rlimit_cpu"};
static const char *const keys_syscalls[] = {"deny", "allow", "allow_dangerous", "unix_sockets",
					    "action"};
static const char *const keys_log[] = {"file"};

static int unknown_key(struct parse_ctx *c, const char *section, const char *name,
		       const char *const *keys, size_t n)
{
	char key[96];
	const char *near = policy_did_you_mean(name, keys, n);

	snprintf(key, sizeof(key), "%s.%s", section, name);
	if (near)
		return parse_fail(c, key, "unknown key (did you mean '%s'?)", near);
	return parse_fail(c, key, "unknown key in [%s]", section);
}

static int handle_sandbox(struct parse_ctx *c, const char *name, const char *value, const char *k)
{
	if (strcmp(name, "include") == 0) {
		char path[PATH_MAX];
		if (c->any_setting)
			return parse_fail(c, k,
					  "include must come before any other setting in the file");
		if (!parse_single_token(c, k, value))
			return 0;
		if (value[0] == '/')
			snprintf(path, sizeof(path), "%s", value);
		else if (!c->dir[0])
			return parse_fail(c, k,
					  "relative include in a policy that has no directory");
		else if ((size_t)snprintf(path, sizeof(path), "%s/%s", c->dir, value) >=
			 sizeof(path))
			return parse_fail(c, k, "path too long");
		if (c->depth + 1 >= POLICY_MAX_INCLUDE_DEPTH)
			return parse_fail(c, k, "includes nested more than %d deep",
					  POLICY_MAX_INCLUDE_DEPTH);
		/* the include reports its own errors; we only stop */
		if (parse_load_file(c, path, c->err, c->p, c->stack, c->depth + 1) < 0) {
			c->failed = true;
			return 0;
		}
		return 1;
	}
	c->any_setting = true;
	if (strcmp(name, "enforcement") == 0) {
		static const char *const names[] = {NULL, "strict", "best-effort"};
		int v;
		if (!parse_scalar_once(c, SCALAR_ENFORCEMENT, k) ||
		    !parse_choice(c, k, value, names, ARRAY_SIZE(names), &v))
			return 0;
		c->p->enforcement = (enum policy_enforcement)v;
		return 1;
	}
	if (strcmp(name, "namespaces") == 0) {
		static const char *const names[] = {NULL, "auto", "on", "off"};
		int v;
		if (!parse_scalar_once(c, SCALAR_NAMESPACES, k) ||
		    !parse_choice(c, k, value, names, ARRAY_SIZE(names), &v))
			return 0;
		c->p->namespaces = (enum policy_namespaces)v;
		return 1;
	}
	if (strcmp(name, "name") == 0) {
		/* one component of the state directory: nothing that could
		 * climb out of it or hide */
		if (!parse_scalar_once(c, SCALAR_NAME, k) || !parse_single_token(c, k, value))
			return 0;
		if (value[0] == '.' || strlen(value) > 64)
			return parse_fail(c, k,
					  "'%s': a name is 1 to 64 letters, digits, '.', '_' and "
					  "'-', not starting with '.'",
					  value);
		for (const char *s = value; *s; s++)
			if (!(isalnum((unsigned char)*s) || *s == '.' || *s == '_' || *s == '-'))
				return parse_fail(c, k,
						  "'%s': a name is 1 to 64 letters, digits, '.', "
						  "'_' and '-', not starting with '.'",
						  value);
		c->p->name_origin = parse_here(c);
		return parse_set_string(c, &c->p->name, value);
	}
	return unknown_key(c, "sandbox", name, keys_sandbox, ARRAY_SIZE(keys_sandbox));
}

static int handle_filesystem(struct parse_ctx *c, const char *name, const char *value,
			     const char *k)
{
	struct policy_list *l = NULL;

	if (strcmp(name, "read") == 0)
		l = &c->p->fs.read;
	else if (strcmp(name, "exec") == 0)
		l = &c->p->fs.exec;
	else if (strcmp(name, "write") == 0)
		l = &c->p->fs.write;
	else if (strcmp(name, "deny") == 0)
		l = &c->p->fs.deny;
	else if (strcmp(name, "protect") == 0)
		l = &c->p->fs.protect;
	if (l)
		return parse_for_each_token(c, k, value, true, parse_tok_path, l);
	if (strcmp(name, "create") == 0)
		return parse_for_each_token(c, k, value, true, parse_tok_plain_path,
					    &c->p->fs.create);
	if (strcmp(name, "private") == 0)
		return parse_for_each_token(c, k, value, true, parse_tok_plain_path,
					    &c->p->fs.private_);
	if (strcmp(name, "private_seed") == 0)
		return parse_for_each_token(c, k, value, true, parse_tok_plain_path,
					    &c->p->fs.private_seed);
	if (strcmp(name, "private_env") == 0)
		return parse_for_each_token(c, k, value, true, parse_tok_private_env,
					    &c->p->fs.private_env);
	if (strcmp(name, "private_tmp") == 0)
		return parse_scalar_once(c, SCALAR_PRIVATE_TMP, k) &&
		       parse_bool(c, k, value, &c->p->fs.private_tmp);
	return unknown_key(c, "filesystem", name, keys_filesystem, ARRAY_SIZE(keys_filesystem));
}

/* memory_max = a size from 1M to 64G: bytes, or K, M or G of them. */
static int net_memory_max(struct parse_ctx *c, const char *k, const char *value)
{
	char *end;
	unsigned long long v;

	if (!parse_scalar_once(c, SCALAR_NET_MEMORY_MAX, k) || !parse_single_token(c, k, value))
		return 0;
	errno = 0;
	v = strtoull(value, &end, 10);
	if (!isdigit((unsigned char)value[0]) || errno || v > (64ULL << 30))
		return parse_fail(c, k, "'%s' is not a size from 1M to 64G", value);
	if (*end == 'K' || *end == 'k')
		v <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	else if (*end == 'G' || *end == 'g')
		v <<= 30, end++;
	/* below 1 MiB the proxy could not hold one tunnel's buffers;
	 * above 64 GiB is a typo */
	if (*end || v < (1ULL << 20) || v > (64ULL << 30))
		return parse_fail(c, k, "'%s' is not a size from 1M to 64G", value);
	c->p->net.memory_max = v;
	return 1;
}

static int handle_network(struct parse_ctx *c, const char *name, const char *value, const char *k)
{
	struct policy *p = c->p;

	for (int t = 0; t < _POLICY_TIMER_MAX; t++)
		if (strcmp(name, policy_timer_key((enum policy_net_timer)t)) == 0)
			return parse_scalar_once(c, (enum scalar_id)(SCALAR_TIMER_FIRST + t), k) &&
			       parse_single_token(c, k, value) &&
			       parse_timer(c, k, value, (enum policy_net_timer)t);

	if (strcmp(name, "mode") == 0) {
		static const char *const names[] = {NULL, "proxy", "none", "host"};
		int v;
		if (!parse_scalar_once(c, SCALAR_NET_MODE, k) ||
		    !parse_choice(c, k, value, names, ARRAY_SIZE(names), &v))
			return 0;
		p->net.mode = (enum policy_net_mode)v;
		p->net.mode_origin.origin = parse_here(c);
		p->net.mode_origin.set = true;
		return 1;
	}
	if (strcmp(name, "isolation") == 0) {
		static const char *const names[] = {NULL, "auto", "namespace", "broker"};
		int v;
		if (!parse_scalar_once(c, SCALAR_NET_ISOLATION, k) ||
		    !parse_choice(c, k, value, names, ARRAY_SIZE(names), &v))
			return 0;
		p->net.isolation = (enum policy_isolation)v;
		return 1;
	}
	if (strcmp(name, "allow") == 0)
		return parse_net_rules(c, k, value, &p->net.allow, &p->net.allow_http, false);
	if (strcmp(name, "deny") == 0)
		return parse_net_rules(c, k, value, &p->net.deny, &p->net.deny_http, true);
	if (strcmp(name, "allow_cidr") == 0)
		return parse_for_each_token(c, k, value, true, parse_tok_cidr, &p->net.allow_cidr);
	if (strcmp(name, "hosts") == 0)
		return parse_for_each_token(c, k, value, true, parse_tok_hosts, &p->net.hosts);
	if (strcmp(name, "allow_no_sni") == 0)
		return parse_for_each_token(c, k, value, true, parse_tok_domain,
					    &p->net.allow_no_sni);
	if (strcmp(name, "server_first") == 0)
		return parse_for_each_token(c, k, value, true, parse_tok_server_first,
					    &p->net.server_first);
	if (strcmp(name, "private") == 0) {
		static const char *const names[] = {NULL, "deny", "allow"};
		int v;
		if (!parse_scalar_once(c, SCALAR_NET_PRIVATE, k) ||
		    !parse_choice(c, k, value, names, ARRAY_SIZE(names), &v))
			return 0;
		p->net.private_deny = v == 1;
		return 1;
	}
	if (strcmp(name, "capture") == 0) {
		static const char *const names[] = {NULL, "on", "off"};
		int v;
		if (!parse_scalar_once(c, SCALAR_NET_CAPTURE, k) ||
		    !parse_choice(c, k, value, names, ARRAY_SIZE(names), &v))
			return 0;
		p->net.no_capture = v == 2;
		return 1;
	}
	if (strcmp(name, "unix_connect") == 0)
		return parse_for_each_token(c, k, value, true, parse_tok_path,
					    &p->net.unix_connect);
	if (strcmp(name, "upstream_ca") == 0) {
		if (!parse_scalar_once(c, SCALAR_NET_UPSTREAM_CA, k) ||
		    !parse_single_token(c, k, value))
			return 0;
		if (!(value[0] == '/' || value[0] == '~' || strncmp(value, "${", 2) == 0))
			return parse_fail(c, k, "'%s' is not an absolute path", value);
		return parse_set_string(c, &p->net.upstream_ca, value);
	}
	if (strcmp(name, "memory_max") == 0)
		return net_memory_max(c, k, value);
	return unknown_key(c, "network", name, keys_network, ARRAY_SIZE(keys_network));
}

/* source = env:VARIABLE, file:PATH or cmd:PROGRAM [ARG]... */
static int cred_source(struct parse_ctx *c, const char *k, const char *value,
		       struct policy_credential *cr)
{
	if (cr->source)
		return parse_fail(c, k, "set twice");
	if (strncmp(value, "cmd:", 4) != 0 && !parse_single_token(c, k, value))
		return 0;
	if (strncmp(value, "cmd:", 4) == 0) {
		/* argv, split as env_set is (blanks, double quotes); no
		 * shell unless the program is one */
		if (!parse_for_each_token(c, k, value + 4, false, parse_tok_argv, &cr->cmd_argv))
			return 0;
		if (cr->cmd_argv.n == 0)
			return parse_fail(c, k, "cmd: needs a program");
		if (cr->cmd_argv.items[0].value[0] != '/')
			return parse_fail(c, k,
					  "'%s' is not an absolute path (cmd: runs no shell "
					  "and searches no PATH)",
					  cr->cmd_argv.items[0].value);
		cr->source_origin = parse_here(c);
		return parse_set_string(c, &cr->source, value);
	}
	if (strncmp(value, "env:", 4) == 0) {
		if (!parse_valid_env_name(value + 4, strlen(value + 4), false))
			return parse_fail(c, k, "'%s' is not an environment variable name",
					  value + 4);
	} else if (strncmp(value, "file:", 5) == 0) {
		const char *f = value + 5;
		if (!(f[0] == '/' || f[0] == '~' || strncmp(f, "${", 2) == 0))
			return parse_fail(c, k, "'%s' is not an absolute path", f);
	} else {
		return parse_fail(c, k, "'%s' is not env:VARIABLE, file:PATH or cmd:PROGRAM",
				  value);
	}
	cr->source_origin = parse_here(c);
	return parse_set_string(c, &cr->source, value);
}

static int handle_credential(struct parse_ctx *c, const char *name, const char *value,
			     const char *k)
{
	struct policy_credential *cr = c->cur_cred;

	if (strcmp(name, "hosts") == 0)
		return parse_for_each_token(c, k, value, true, parse_tok_domain, &cr->hosts);
	if (strcmp(name, "env") == 0) {
		if (cr->env)
			return parse_fail(c, k, "set twice");
		if (!parse_single_token(c, k, value))
			return 0;
		if (!parse_valid_env_name(value, strlen(value), false))
			return parse_fail(c, k, "'%s' is not an environment variable name", value);
		return parse_set_string(c, &cr->env, value);
	}
	if (strcmp(name, "source") == 0)
		return cred_source(c, k, value, cr);
	if (strcmp(name, "inject") == 0) {
		if (cr->inject_set)
			return parse_fail(c, k, "set twice");
		if (!parse_single_token(c, k, value))
			return 0;
		cr->inject_set = true;
		return parse_inject(c, k, value, cr);
	}
	if (strcmp(name, "require") == 0) {
		if (cr->require_set)
			return parse_fail(c, k, "set twice");
		cr->require_set = true;
		return parse_bool(c, k, value, &cr->require);
	}
	if (strcmp(name, "ttl") == 0) {
		if (cr->ttl_set)
			return parse_fail(c, k, "set twice");
		cr->ttl_set = true;
		return parse_cred_duration(c, k, value, POLICY_TTL_MIN_MS, POLICY_TTL_MAX_MS,
					   &cr->ttl_ms);
	}
	if (strcmp(name, "timeout") == 0) {
		if (cr->timeout_set)
			return parse_fail(c, k, "set twice");
		cr->timeout_set = true;
		return parse_cred_duration(c, k, value, 100, POLICY_CMD_TIMEOUT_MAX_MS,
					   &cr->cmd_timeout_ms);
	}
	if (strcmp(name, "optional") == 0) {
		if (cr->optional_set)
			return parse_fail(c, k, "set twice");
		cr->optional_set = true;
		return parse_bool(c, k, value, &cr->optional);
	}
	if (strcmp(name, "plaintext") == 0) {
		if (cr->plaintext_set)
			return parse_fail(c, k, "set twice");
		cr->plaintext_set = true;
		return parse_bool(c, k, value, &cr->plaintext);
	}
	if (strcmp(name, "placeholder") == 0) {
		size_t n = strlen(value);
		if (cr->placeholder)
			return parse_fail(c, k, "set twice");
		if (n < POLICY_PLACEHOLDER_MIN || n > POLICY_PLACEHOLDER_MAX)
			return parse_fail(c, k, "a placeholder is 16 to 255 characters long");
		for (size_t i = 0; i < n; i++)
			if (!(isalnum((unsigned char)value[i]) || value[i] == '_'))
				return parse_fail(
				    c, k, "a placeholder is made of A-Z, a-z, 0-9 and _ only");
		return parse_set_string(c, &cr->placeholder, value);
	}
	return unknown_key(c, "credential", name, keys_credential, ARRAY_SIZE(keys_credential));
}

static int handle_process(struct parse_ctx *c, const char *name, const char *value, const char *k)
{
	struct policy *p = c->p;

	if (strcmp(name, "run_as") == 0) {
		if (!parse_scalar_once(c, SCALAR_RUN_AS, k) || !parse_single_token(c, k, value))
			return 0;
		for (const char *s = value; *s; s++)
			if (!(isalnum((unsigned char)*s) || strchr("._-", *s)))
				return parse_fail(c, k, "'%s' is not a user name or number", value);
		p->process.run_as_origin = parse_here(c);
		return parse_set_string(c, &p->process.run_as, value);
	}
	if (strcmp(name, "env_keep") == 0) {
		p->process.env_keep_set = true;
		return parse_for_each_token(c, k, value, true, parse_tok_env_glob,
					    &p->process.env_keep);
	}
	if (strcmp(name, "env_set") == 0)
		/* commas may be part of a value here, so only blanks separate */
		return parse_for_each_token(c, k, value, false, parse_tok_env_set,
					    &p->process.env_set);
	for (int r = 0; r < _POLICY_RLIMIT_MAX; r++)
		if (strcmp(name, policy_rlimit_key((enum policy_rlimit)r)) == 0)
			return parse_scalar_once(c, (enum scalar_id)(SCALAR_RLIMIT_FIRST + r), k) &&
			       parse_single_token(c, k, value) &&
			       parse_rlimit(c, k, value, &p->process.rlimits[r]);
	return unknown_key(c, "process", name, keys_process, ARRAY_SIZE(keys_process));
}

static int handle_syscalls(struct parse_ctx *c, const char *name, const char *value, const char *k)
{
	struct policy *p = c->p;

	if (strcmp(name, "deny") == 0)
		return parse_for_each_token(c, k, value, true, parse_tok_syscall,
					    &p->syscalls.deny);
	if (strcmp(name, "allow") == 0)
		return parse_for_each_token(c, k, value, true, parse_tok_syscall,
					    &p->syscalls.allow);
	if (strcmp(name, "allow_dangerous") == 0)
		return parse_scalar_once(c, SCALAR_ALLOW_DANGEROUS, k) &&
		       parse_bool(c, k, value, &p->syscalls.allow_dangerous);
	if (strcmp(name, "unix_sockets") == 0) {
		static const char *const names[] = {NULL, "allow", "deny"};
		int v;
		if (!parse_scalar_once(c, SCALAR_UNIX_SOCKETS, k) ||
		    !parse_choice(c, k, value, names, ARRAY_SIZE(names), &v))
			return 0;
		p->syscalls.unix_sockets = v == 1;
		return 1;
	}
	if (strcmp(name, "action") == 0) {
		static const char *const names[] = {NULL, "errno", "kill"};
		int v;
		if (!parse_scalar_once(c, SCALAR_SYSCALL_ACTION, k) ||
		    !parse_choice(c, k, value, names, ARRAY_SIZE(names), &v))
			return 0;
		p->syscalls.action = (enum policy_syscall_action)v;
		return 1;
	}
	return unknown_key(c, "syscalls", name, keys_syscalls, ARRAY_SIZE(keys_syscalls));
}

static int handle_log(struct parse_ctx *c, const char *name, const char *value, const char *k)
{
	if (strcmp(name, "file") == 0) {
		if (!parse_scalar_once(c, SCALAR_LOG_FILE, k) || !parse_single_token(c, k, value))
			return 0;
		if (!(value[0] == '/' || value[0] == '~' || strncmp(value, "${", 2) == 0))
			return parse_fail(c, k, "'%s' is not an absolute path", value);
		c->p->log.origin = parse_here(c);
		return parse_set_string(c, &c->p->log.file, value);
	}
	return unknown_key(c, "log", name, keys_log, ARRAY_SIZE(keys_log));
}

/* Fails (and returns false) for a section name that is not ours. */
bool parse_section_known(struct parse_ctx *c, const char *raw)
{
	static const char *const plain[] = {"sandbox", "filesystem", "network",
					    "process", "syscalls",   "log"};
	char name[INIH_MAX_SECTION + 1];
	size_t b = 0, e = strlen(raw);

	while (b < e && isspace((unsigned char)raw[b]))
		b++;
	while (e > b && isspace((unsigned char)raw[e - 1]))
		e--;
	snprintf(name, sizeof(name), "%.*s", (int)(e - b), raw + b);
	for (size_t i = 0; i < ARRAY_SIZE(plain); i++)
		if (strcmp(name, plain[i]) == 0)
			return true;
	if (strncmp(name, "credential ", 11) == 0 || strcmp(name, "credential") == 0)
		return true; /* the name is checked with the first key */
	const char *near = policy_did_you_mean(name, section_names, ARRAY_SIZE(section_names));
	if (near)
		parse_fail(c, NULL, "unknown section [%s] (did you mean [%s]?)", name, near);
	else
		parse_fail(c, NULL, "unknown section [%s]", name);
	return false;
}

static struct policy_credential *credential_get(struct parse_ctx *c, const char *cname)
{
	for (size_t i = 0; i < c->p->n_creds; i++)
		if (strcmp(c->p->creds[i].name, cname) == 0)
			return &c->p->creds[i];
	struct policy_credential *creds =
	    realloc(c->p->creds, (c->p->n_creds + 1) * sizeof(*creds));
	if (!creds)
		return NULL;
	c->p->creds = creds;
	struct policy_credential *cr = &creds[c->p->n_creds];
	*cr = (struct policy_credential){
	    .name = strdup(cname),
	    .origin = {.file = c->file, .line = c->section_line ? c->section_line : c->line},
	};
	if (!cr->name)
		return NULL;
	c->p->n_creds++;
	return cr;
}

int parse_handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *c = user;
	char k[96];

	if (c->failed)
		return 0;
	if (c->reader_error)
		return 0;
	if (!*section)
		return parse_fail(c, name, "setting outside of any [section]");
	snprintf(k, sizeof(k), "%s.%s",
		 strncmp(section, "credential ", 11) == 0 ? "credential" : section, name);
	if (strcmp(section, "sandbox") != 0)
		c->any_setting = true;

	if (strcmp(section, "sandbox") == 0)
		return handle_sandbox(c, name, value, k);
	if (strcmp(section, "filesystem") == 0)
		return handle_filesystem(c, name, value, k);
	if (strcmp(section, "network") == 0)
		return handle_network(c, name, value, k);
	if (strcmp(section, "process") == 0)
		return handle_process(c, name, value, k);
	if (strcmp(section, "syscalls") == 0)
		return handle_syscalls(c, name, value, k);
	if (strcmp(section, "log") == 0)
		return handle_log(c, name, value, k);
	if (strncmp(section, "credential ", 11) == 0) {
		const char *cname = section + 11;
		if (!*cname)
			return parse_fail(c, NULL, "[credential] needs a name: [credential NAME]");
		for (const char *s = cname; *s; s++)
			if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '-'))
				return parse_fail(
				    c, NULL,
				    "[%s]: a credential name has letters, digits, _ and - only",
				    section);
		if (strcmp(c->cur_section, section) != 0) {
			c->cur_cred = credential_get(c, cname);
			if (!c->cur_cred)
				return parse_fail(c, NULL, "out of memory");
			snprintf(c->cur_section, sizeof(c->cur_section), "%s", section);
		}
		return handle_credential(c, name, value, k);
	}
	if (strcmp(section, "credential") == 0)
		return parse_fail(c, NULL, "[credential] needs a name: [credential NAME]");
	const char *near = policy_did_you_mean(section, section_names, ARRAY_SIZE(section_names));
	if (near)
		return parse_fail(c, NULL, "unknown section [%s] (did you mean [%s]?)", section,
				  near);
	return parse_fail(c, NULL, "unknown section [%s]", section);
}
