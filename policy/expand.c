/* SPDX-License-Identifier: MIT */
/*
 * ~, ${CWD}, ${HOME} and ${VAR} expansion, path normalisation, and the
 * command-line overrides.  Runs after the whole policy is read, because `~`
 * means the home of the `run_as` user, which the supervisor resolves.
 */
#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "../common/macros.h"
#include "policy.h"
#include "policy_internal.h"

/*
 * Normalises an absolute path in place: "//" and "/./" collapse, a trailing
 * "/" goes.  ".." is refused rather than resolved: resolving it by text would
 * be wrong across symlinks, and the kernel resolving it would let a policy
 * line mean something other than it reads.
 */
static int normalize_path(char *path)
{
	char *out = path;
	const char *in = path;

	if (path[0] != '/')
		return -EINVAL;
	while (*in) {
		while (*in == '/')
			in++;
		if (!*in)
			break;
		const char *end = strchrnul(in, '/');
		size_t n = (size_t)(end - in);
		if (n == 1 && in[0] == '.') {
			in = end;
			continue;
		}
		if (n == 2 && in[0] == '.' && in[1] == '.')
			return -EXDEV;
		*out++ = '/';
		memmove(out, in, n);
		out += n;
		in = end;
	}
	if (out == path)
		*out++ = '/';
	*out = '\0';
	return 0;
}

int policy_expand_string(const char *in, const struct policy_vars *vars, bool is_path, char **ret,
			 const char **ret_undefined)
{
	char buf[PATH_MAX * 2];
	size_t n = 0;
	const char *s = in;
	static __thread char undefined[128];

	*ret_undefined = NULL;
#define APPEND(str, len)                                                                           \
	do {                                                                                       \
		size_t _l = (len);                                                                 \
		if (n + _l >= sizeof(buf))                                                         \
			return -ENAMETOOLONG;                                                      \
		memcpy(buf + n, (str), _l);                                                        \
		n += _l;                                                                           \
	} while (0)

	if (is_path && s[0] == '~' && (s[1] == '\0' || s[1] == '/')) {
		if (!vars->home || !vars->home[0]) {
			snprintf(undefined, sizeof(undefined), "HOME");
			*ret_undefined = undefined;
			return -ENOENT;
		}
		APPEND(vars->home, strlen(vars->home));
		s++;
	}
	while (*s) {
		if (s[0] == '$' && s[1] == '{') {
			const char *close = strchr(s + 2, '}');
			char name[128];
			const char *val;
			size_t len;

			if (!close)
				return -EINVAL;
			len = (size_t)(close - (s + 2));
			if (len == 0 || len >= sizeof(name))
				return -EINVAL;
			memcpy(name, s + 2, len);
			name[len] = '\0';
			for (size_t i = 0; i < len; i++)
				if (!(isalnum((unsigned char)name[i]) || name[i] == '_') ||
				    isdigit((unsigned char)name[0]))
					return -EINVAL;
			if (strcmp(name, "CWD") == 0)
				val = vars->cwd;
			else if (strcmp(name, "HOME") == 0)
				val = vars->home;
			else
				val = vars->getenv ? vars->getenv(name) : NULL;
			if (!val) {
				snprintf(undefined, sizeof(undefined), "%s", name);
				*ret_undefined = undefined;
				return -ENOENT;
			}
			APPEND(val, strlen(val));
			s = close + 1;
			continue;
		}
		APPEND(s, 1);
		s++;
	}
	buf[n] = '\0';
#undef APPEND
	if (is_path) {
		int r = normalize_path(buf);
		if (r < 0)
			return r;
	}
	*ret = strdup(buf);
	return *ret ? 0 : -ENOMEM;
}

static int expand_one(char **value, const struct policy_origin *o, const char *key,
		      const struct policy_vars *vars, bool is_path, struct policy_error *err)
{
	const char *undefined;
	char *out = NULL;
	int r = policy_expand_string(*value, vars, is_path, &out, &undefined);

	if (r < 0) {
		snprintf(err->file, sizeof(err->file), "%s", o->file ? o->file : "command line");
		err->line = o->line;
		snprintf(err->key, sizeof(err->key), "%s", key);
		switch (r) {
		case -ENOENT:
			snprintf(
			    err->msg, sizeof(err->msg),
			    "'%s': ${%s} is not defined (set it, or remove it from the policy)",
			    *value, undefined);
			break;
		case -EXDEV:
			snprintf(err->msg, sizeof(err->msg),
				 "'%s': '..' is not allowed in policy paths", *value);
			break;
		case -ENAMETOOLONG:
			snprintf(err->msg, sizeof(err->msg), "'%s': too long once expanded",
				 *value);
			break;
		default:
			snprintf(err->msg, sizeof(err->msg),
				 is_path ? "'%s' is not an absolute path once expanded"
					 : "'%s': malformed ${...}",
				 *value);
			break;
		}
		return r;
	}
	free(*value);
	*value = out;
	return 0;
}

static int expand_list(struct policy_list *l, const char *key, const struct policy_vars *vars,
		       bool is_path, struct policy_error *err)
{
	for (size_t i = 0; i < l->n; i++) {
		int r =
		    expand_one(&l->items[i].value, &l->items[i].origin, key, vars, is_path, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* PATH is DIR or lies beneath it (both absolute and normal). */
static bool at_or_beneath(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/*
 * A deny wins over every grant, so a grant at or beneath a deny path grants
 * nothing: with a mount namespace the path is masked and the rule cannot
 * even be made, without one the carve-out holds.  Either way the operator
 * meant something else ("read = ~/.ssh/known_hosts" beside the default's
 * "deny = ~/.ssh"), and is told where, instead of a command that cannot
 * read what the policy seems to grant.  The working directory under a deny
 * has its own message at start-up.
 */
static int check_grants_beneath_deny(const struct policy *p, const struct policy_vars *vars,
				     struct policy_error *err)
{
	static const struct {
		size_t off;
		const char *key;
	} grants[] = {
	    {offsetof(struct policy, fs.read), "filesystem.read"},
	    {offsetof(struct policy, fs.exec), "filesystem.exec"},
	    {offsetof(struct policy, fs.write), "filesystem.write"},
	};

	for (size_t g = 0; g < ARRAY_SIZE(grants); g++) {
		const struct policy_list *l =
		    (const struct policy_list *)((const char *)p + grants[g].off);
		for (size_t i = 0; i < l->n; i++) {
			const struct policy_item *it = &l->items[i];
			if (vars->cwd && strcmp(it->value, vars->cwd) == 0)
				continue;
			for (size_t d = 0; d < p->fs.deny.n; d++) {
				const struct policy_item *dn = &p->fs.deny.items[d];
				if (!at_or_beneath(it->value, dn->value))
					continue;
				snprintf(err->file, sizeof(err->file), "%s",
					 it->origin.file ? it->origin.file : "command line");
				err->line = it->origin.line;
				snprintf(err->key, sizeof(err->key), "%s", grants[g].key);
				snprintf(err->msg, sizeof(err->msg),
					 "'%s' %s deny = %s (%s:%u), which wins: nothing would be "
					 "granted (keep what the command needs outside it)",
					 it->value,
					 strcmp(it->value, dn->value) == 0 ? "is" : "lies beneath",
					 dn->value,
					 dn->origin.file ? dn->origin.file : "command line",
					 dn->origin.line);
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int item_error(struct policy_error *err, const struct policy_item *it, const char *key,
		      const char *fmt, const char *a)
{
	snprintf(err->file, sizeof(err->file), "%s",
		 it->origin.file ? it->origin.file : "command line");
	err->line = it->origin.line;
	snprintf(err->key, sizeof(err->key), "%s", key);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	/* every FMT here is a literal with two %s: the value, then A */
	snprintf(err->msg, sizeof(err->msg), fmt, it->value, a);
#pragma GCC diagnostic pop
	return -EINVAL;
}

/* VAR=PATH: the path after '=' expanded like any policy path. */
static int expand_private_env(struct policy_item *it, const struct policy_vars *vars,
			      struct policy_error *err)
{
	char *eq = strchr(it->value, '=');
	char *path = strdup(eq + 1), *out;
	int r;

	if (!path)
		return -ENOMEM;
	r = expand_one(&path, &it->origin, "filesystem.private_env", vars, true, err);
	if (r < 0) {
		free(path);
		return r;
	}
	out = malloc((size_t)(eq - it->value) + strlen(path) + 2);
	if (!out) {
		free(path);
		return -ENOMEM;
	}
	sprintf(out, "%.*s=%s", (int)(eq - it->value), it->value, path);
	free(path);
	free(it->value);
	it->value = out;
	return 0;
}

static bool strictly_beneath(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return path[0] == '/' && path[1] != '\0';
	return strncmp(path, dir, n) == 0 && path[n] == '/' && path[n + 1] != '\0';
}

/*
 * Where state may be made.  `create` makes directories as the command's
 * user, so only beneath that user's home or the working directory (the
 * project), never at or above either, and never anywhere when the anchor is
 * the root directory (the supervisor also wants the anchor to be the
 * user's).  A private path is a stand-in for something of the user's own:
 * strictly beneath the home.  private_env names a private path.
 */
static int check_state_paths(const struct policy *p, const struct policy_vars *vars,
			     struct policy_error *err)
{
	const char *home = vars->home && strcmp(vars->home, "/") != 0 ? vars->home : NULL;
	const char *cwd = vars->cwd && strcmp(vars->cwd, "/") != 0 ? vars->cwd : NULL;

	for (size_t i = 0; i < p->fs.create.n; i++) {
		const struct policy_item *it = &p->fs.create.items[i];
		if (!(home && strictly_beneath(it->value, home)) &&
		    !(cwd && strictly_beneath(it->value, cwd)))
			return item_error(err, it, "filesystem.create",
					  "'%s' is outside the home directory and the working "
					  "directory%s",
					  "");
	}
	const struct policy_list *priv[] = {&p->fs.private_, &p->fs.private_seed};
	static const char *const keys[] = {"filesystem.private", "filesystem.private_seed"};
	for (size_t l = 0; l < ARRAY_SIZE(priv); l++)
		for (size_t i = 0; i < priv[l]->n; i++) {
			const struct policy_item *it = &priv[l]->items[i];
			if (!home || !strictly_beneath(it->value, home))
				return item_error(err, it, keys[l],
						  "'%s' is not beneath the home directory %s",
						  home ? home : "(none)");
		}
	/* one stand-in inside another would be two copies of one file */
	for (size_t l = 0; l < ARRAY_SIZE(priv); l++)
		for (size_t i = 0; i < priv[l]->n; i++)
			for (size_t m = 0; m < ARRAY_SIZE(priv); m++)
				for (size_t j = 0; j < priv[m]->n; j++)
					if ((m != l || j != i) &&
					    strictly_beneath(priv[l]->items[i].value,
							     priv[m]->items[j].value))
						return item_error(
						    err, &priv[l]->items[i], keys[l],
						    "'%s' is inside the private path %s",
						    priv[m]->items[j].value);
	for (size_t i = 0; i < p->fs.private_env.n; i++) {
		const struct policy_item *it = &p->fs.private_env.items[i];
		const char *path = strchr(it->value, '=') + 1;
		bool found = false;
		for (size_t l = 0; l < ARRAY_SIZE(priv); l++)
			for (size_t j = 0; j < priv[l]->n; j++)
				found |= strcmp(priv[l]->items[j].value, path) == 0;
		if (!found)
			return item_error(err, it, "filesystem.private_env",
					  "'%s': %s is not a private path", path);
	}
	return 0;
}

/* A secret's file (source = file:PATH): ~ and ${VAR} in its path. */
static int expand_cred_files(struct policy *p, const struct policy_vars *vars,
			     struct policy_error *err)
{
	int r;

	for (size_t i = 0; i < p->n_creds; i++) {
		struct policy_credential *cr = &p->creds[i];
		if (strncmp(cr->source, "file:", 5) == 0) {
			char *path = strdup(cr->source + 5);
			if (!path)
				return -ENOMEM;
			r = expand_one(&path, &cr->origin, "credential.source", vars, true, err);
			if (r < 0) {
				free(path);
				return r;
			}
			char *src = malloc(strlen(path) + 6);
			if (!src) {
				free(path);
				return -ENOMEM;
			}
			sprintf(src, "file:%s", path);
			free(path);
			free(cr->source);
			cr->source = src;
		}
	}
	return 0;
}

int policy_expand(struct policy *p, const struct policy_vars *vars, struct policy_error *err)
{
	struct {
		struct policy_list *l;
		const char *key;
	} paths[] = {
	    {&p->fs.read, "filesystem.read"},
	    {&p->fs.exec, "filesystem.exec"},
	    {&p->fs.write, "filesystem.write"},
	    {&p->fs.deny, "filesystem.deny"},
	    {&p->fs.protect, "filesystem.protect"},
	    {&p->fs.create, "filesystem.create"},
	    {&p->fs.private_, "filesystem.private"},
	    {&p->fs.private_seed, "filesystem.private_seed"},
	    {&p->net.unix_connect, "network.unix_connect"},
	};
	int r;

	if (p->expanded)
		return 0;
	r = policy_validate(p, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		r = expand_list(paths[i].l, paths[i].key, vars, true, err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < p->fs.private_env.n; i++) {
		r = expand_private_env(&p->fs.private_env.items[i], vars, err);
		if (r < 0)
			return r;
	}
	r = check_state_paths(p, vars, err);
	if (r < 0)
		return r;
	/* env_set: ${VAR} in the value only, no ~ */
	r = expand_list(&p->process.env_set, "process.env_set", vars, false, err);
	if (r < 0)
		return r;
	if (p->net.upstream_ca) {
		struct policy_origin o = {0};
		r = expand_one(&p->net.upstream_ca, &o, "network.upstream_ca", vars, true, err);
		if (r < 0)
			return r;
	}
	if (p->log.file) {
		r = expand_one(&p->log.file, &p->log.origin, "log.file", vars, true, err);
		if (r < 0)
			return r;
	}
	r = expand_cred_files(p, vars, err);
	if (r < 0)
		return r;
	r = check_grants_beneath_deny(p, vars, err);
	if (r < 0)
		return r;
	/* a secret's file is denied as any deny path is (after the check
	 * above: a grant that covers it, even names it, is narrowed, not an
	 * error): else a grant over it (a home granted for reading, a token in
	 * the project or under /etc in an image) hands the command the real
	 * secret the placeholder stands for */
	for (size_t i = 0; i < p->n_creds; i++) {
		const struct policy_credential *cr = &p->creds[i];
		if (strncmp(cr->source, "file:", 5) == 0 &&
		    policy_list_add(&p->fs.deny, cr->source + 5, false, cr->source_origin) < 0)
			return -ENOMEM;
	}
	p->expanded = true;
	return 0;
}

static void list_clear(struct policy_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i].value);
	l->n = 0;
}

/* --allow-domain and --allow-cidr: a rule for the proxy.  1 when a policy
 * without a network was given the proxy for it (the caller says so), 0, or
 * -errno with ERR. */
static int override_net(struct policy *p, enum policy_override what, const char *value,
			struct policy_error *err)
{
	const struct policy_origin cli = {.file = NULL, .line = 0};
	const char *why, *flag = what == POLICY_OVERRIDE_DOMAIN ? "--allow-domain" : "--allow-cidr";
	char rule[300];
	bool switched = false;
	int r;

	snprintf(err->key, sizeof(err->key), "%s", flag);
	if (what == POLICY_OVERRIDE_DOMAIN) {
		int u = policy_url_rule(value, rule, sizeof(rule), &why);
		if (u == 0 && strchr(value, '/')) {
			why = "a host, not a path (method and path rules go in a policy's "
			      "[network] allow)";
			u = -EINVAL;
		}
		if (u == 0 && !policy_domain_rule_valid(value, &why))
			u = -EINVAL;
		if (u < 0) {
			snprintf(err->msg, sizeof(err->msg), "'%s': %s", value, why);
			return -EINVAL;
		}
		if (u == 0)
			snprintf(rule, sizeof(rule), "%s", value);
	} else {
		if (!policy_cidr_valid(value, &why)) {
			snprintf(err->msg, sizeof(err->msg), "'%s': %s", value, why);
			return -EINVAL;
		}
		snprintf(rule, sizeof(rule), "%s", value);
	}
	/* A grant on the command line asks for the proxy: a policy
	 * (the built-in default or a file) that has no network gets it,
	 * and the caller says so.  -n on the same command line asks for
	 * the opposite; mode = host already reaches everything, so a
	 * grant there would only mislead. */
	if (p->net.mode == POLICY_NET_NONE && p->net.mode_origin.set &&
	    !p->net.mode_origin.origin.file) {
		snprintf(err->msg, sizeof(err->msg), "contradicts -n (--no-network)");
		return -EINVAL;
	}
	if (p->net.mode == POLICY_NET_NONE) {
		p->net.mode = POLICY_NET_PROXY;
		p->net.mode_origin.set = true;
		p->net.mode_origin.origin = cli;
		switched = true;
	}
	if (p->net.mode != POLICY_NET_PROXY) {
		snprintf(err->msg, sizeof(err->msg),
			 "needs [network] mode = proxy, but the policy says mode = %s",
			 policy_net_mode_name(p->net.mode));
		return -EINVAL;
	}
	if (what == POLICY_OVERRIDE_DOMAIN) {
		for (char *s = rule; *s; s++)
			*s = (char)tolower((unsigned char)*s);
		r = policy_list_add(&p->net.allow, rule, false, cli);
	} else {
		r = policy_list_add(&p->net.allow_cidr, rule, false, cli);
	}
	if (r < 0)
		return r;
	memset(err, 0, sizeof(*err));
	return switched ? 1 : 0;
}

int policy_override(struct policy *p, enum policy_override what, const char *value,
		    struct policy_error *err)
{
	const struct policy_origin cli = {.file = NULL, .line = 0};
	struct policy_list *l = NULL;
	const char *key = "";
	char path[PATH_MAX];
	int r;

	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "command line");
	switch (what) {
	case POLICY_OVERRIDE_READ:
		l = &p->fs.read;
		key = "--allow-read";
		break;
	case POLICY_OVERRIDE_EXEC:
		l = &p->fs.exec;
		key = "--allow-exec";
		break;
	case POLICY_OVERRIDE_WRITE:
		l = &p->fs.write;
		key = "--allow-write";
		break;
	case POLICY_OVERRIDE_DENY:
		l = &p->fs.deny;
		key = "--deny";
		break;
	case POLICY_OVERRIDE_DOMAIN:
	case POLICY_OVERRIDE_CIDR:
		return override_net(p, what, value, err);
	case POLICY_OVERRIDE_NO_NETWORK:
		p->net.mode = POLICY_NET_NONE;
		p->net.mode_origin.set = true;
		p->net.mode_origin.origin = cli;
		list_clear(&p->net.allow);
		list_clear(&p->net.deny);
		list_clear(&p->net.allow_cidr);
		list_clear(&p->net.hosts);
		list_clear(&p->net.allow_no_sni);
		list_clear(&p->net.server_first);
		return 0;
	case POLICY_OVERRIDE_LOG:
		if (value[0] != '/' && value[0] != '~' && strncmp(value, "${", 2) != 0)
			r = snprintf(path, sizeof(path), "${CWD}/%s", value);
		else
			r = snprintf(path, sizeof(path), "%s", value);
		if (r < 0 || (size_t)r >= sizeof(path))
			return -ENAMETOOLONG;
		free(p->log.file);
		p->log.file = strdup(path);
		p->log.origin = cli;
		return p->log.file ? 0 : -ENOMEM;
	case _POLICY_OVERRIDE_MAX:
	default:
		return -EINVAL;
	}
	if (!value[0]) {
		snprintf(err->key, sizeof(err->key), "%s", key);
		snprintf(err->msg, sizeof(err->msg), "needs a path");
		return -EINVAL;
	}
	/* command-line paths may be relative to where ringfence was started */
	bool required = value[0] == '!';
	if (required)
		value++;
	if (value[0] != '/' && value[0] != '~' && strncmp(value, "${", 2) != 0)
		r = snprintf(path, sizeof(path), "${CWD}/%s", value);
	else
		r = snprintf(path, sizeof(path), "%s", value);
	if (r < 0 || (size_t)r >= sizeof(path))
		return -ENAMETOOLONG;
	return policy_list_add(l, path, required, cli);
}
