/* SPDX-License-Identifier: MIT */
/*
 * policy/ — the whole interface of the policy folder.
 *
 * A policy is read from INI files (inih), validated as a draft and handed out
 * only when every line of every file was understood.  Paths and variables are
 * expanded in a second step (policy_expand) because `~` depends on the
 * `run_as` user, which the supervisor resolves.  Nothing here calls a
 * sandboxing syscall.
 *
 * Ownership: a struct policy owns every string it points to; policy_free()
 * releases it all.  struct policy_origin.file points into policy->files.
 */
#ifndef RINGFENCE_POLICY_H
#define RINGFENCE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define POLICY_MAX_FILE_SIZE	 (1024 * 1024)
#define POLICY_MAX_INCLUDE_DEPTH 16

struct policy_error {
	char file[4096];
	unsigned line; /* 0 when the error is not tied to a line */
	char key[96];  /* "section.key", or "" */
	char msg[640];
};

/* Formats "FILE:LINE: [KEY: ]MSG" (or "FILE: MSG", or "MSG") into buf. */
void policy_error_format(const struct policy_error *err, char *buf, size_t size);

struct policy_origin {
	const char *file; /* NULL for built-ins and the command line */
	unsigned line;
};

struct policy_item {
	char *value;
	bool required; /* path written with a leading '!' */
	bool optional; /* path written with a leading '?': missing is no news */
	bool is_dir;   /* path written with a trailing '/' (before normalising) */
	struct policy_origin origin;
};

struct policy_list {
	struct policy_item *items;
	size_t n, cap;
};

enum policy_enforcement {
	POLICY_ENFORCE_STRICT = 1,
	POLICY_ENFORCE_BEST_EFFORT,
	_POLICY_ENFORCE_MAX,
};

enum policy_namespaces {
	POLICY_NS_AUTO = 1, /* use them when the kernel lets us, else fall back */
	POLICY_NS_ON,	    /* refuse to start without them */
	POLICY_NS_OFF,	    /* never: subreaper init and Landlock-only carve-outs */
	_POLICY_NS_MAX,
};

enum policy_net_mode {
	POLICY_NET_PROXY = 1,
	POLICY_NET_NONE,
	POLICY_NET_HOST,
	_POLICY_NET_MAX,
};

enum policy_isolation {
	POLICY_ISOLATION_AUTO = 1,
	POLICY_ISOLATION_NAMESPACE,
	POLICY_ISOLATION_BROKER,
	_POLICY_ISOLATION_MAX,
};

enum policy_syscall_action {
	POLICY_SYSCALL_ERRNO = 1,
	POLICY_SYSCALL_KILL,
	_POLICY_SYSCALL_MAX,
};

enum policy_rlimit {
	POLICY_RLIMIT_NOFILE = 0,
	POLICY_RLIMIT_NPROC,
	POLICY_RLIMIT_CORE,
	POLICY_RLIMIT_FSIZE,
	POLICY_RLIMIT_AS,
	POLICY_RLIMIT_CPU,
	_POLICY_RLIMIT_MAX,
};

#define POLICY_RLIM_INFINITY UINT64_MAX

/* The proxy's timers a policy may shorten ([network] KEY = 30s, 500ms). */
enum policy_net_timer {
	POLICY_TIMER_FIRST_BYTES = 0, /* a granted tunnel's first bytes, to judge them */
	POLICY_TIMER_CLIENT,	      /* a client that stalls before or mid-request */
	POLICY_TIMER_CONNECT,	      /* DNS and TCP connect together */
	POLICY_TIMER_DNS,	      /* one question to one name server, before asking again */
	_POLICY_TIMER_MAX,
};

struct policy_rlimit_value {
	bool set;
	uint64_t value; /* POLICY_RLIM_INFINITY for "unlimited" */
	struct policy_origin origin;
};

/* Where a credential's secret is written in a request to its hosts. */
enum policy_inject {
	POLICY_INJECT_REPLACE = 0,    /* wherever the placeholder stands (target, headers, Basic) */
	POLICY_INJECT_HEADER,	      /* only in the header named by inject_arg */
	POLICY_INJECT_BEARER,	      /* Authorization: Bearer SECRET */
	POLICY_INJECT_BASIC_PASSWORD, /* Authorization: Basic base64(inject_arg:SECRET) */
	POLICY_INJECT_BASIC_USER,     /* Authorization: Basic base64(SECRET:) */
	POLICY_INJECT_QUERY,	      /* only in the query parameter named by inject_arg */
	_POLICY_INJECT_MAX,
};

/* A placeholder's length, said by the parser; the proxy sizes its
 * per-request search buffers by it (netproxy/cred_detect.c). */
#define POLICY_PLACEHOLDER_MIN 16
#define POLICY_PLACEHOLDER_MAX 255

struct policy_credential {
	char *name;
	char *env;
	char *source; /* "env:VAR", "file:PATH" or "cmd:PROGRAM ARG..." */
	struct policy_origin source_origin;
	struct policy_list cmd_argv; /* cmd: the program and its arguments, split */
	uint32_t ttl_ms;	     /* cmd: run again this often; 0: once, at start */
	uint32_t cmd_timeout_ms;     /* cmd: how long it may take; 0: the default */
	bool ttl_set, timeout_set;
	char *placeholder;	       /* POLICY_PLACEHOLDER_MIN to _MAX characters */
	bool optional, optional_set;   /* optional: a missing secret skips it */
	bool plaintext, plaintext_set; /* may be written into plain HTTP */
	enum policy_inject inject;
	char *inject_arg; /* a header's or parameter's name, Basic's user; or NULL */
	bool inject_set;
	bool require, require_set; /* a request to its hosts without the placeholder is refused */
	struct policy_list hosts;
	struct policy_origin origin;
};

#define POLICY_CMD_TIMEOUT_DEFAULT_MS 10000
#define POLICY_CMD_TIMEOUT_MAX_MS     60000
#define POLICY_TTL_MIN_MS	      1000
#define POLICY_TTL_MAX_MS	      (24u * 3600 * 1000)

/* The text of an inject = value without its argument ("header", "bearer", ...). */
const char *policy_inject_name(enum policy_inject i);

/* A scalar that remembers where it was set, so later errors can say so. */
struct policy_scalar_origin {
	struct policy_origin origin;
	bool set;
};

/* What one policy file was, taken from the descriptor it was read from
 * (never from its path again: the path may name something else by the
 * time anyone asks), and the directories holding it: the one it was opened
 * in, then each parent by "..", up to /. */
struct policy_dir_stat {
	uint32_t uid;
	uint32_t mode;
};
struct policy_file_stat {
	bool read; /* false: not a file (a policy from a string), or not read */
	uint64_t dev, ino;
	uint32_t uid, mode;
	int dirs_err;		      /* 0, or -errno: the directories could not all be walked */
	struct policy_dir_stat *dirs; /* [0]: the file's own directory; last: / */
	size_t n_dirs;
};

struct policy {
	char **files;			     /* every file read, in order; owned */
	struct policy_file_stat *file_stats; /* one per file; owned */
	size_t n_files;

	enum policy_enforcement enforcement;
	enum policy_namespaces namespaces;

	/* [sandbox] name: names the state directory of private stand-ins
	 * (NULL: the policy file's name) */
	char *name;
	struct policy_origin name_origin;

	struct {
		struct policy_list read, exec, write, deny, protect;
		/* directories made (0700, the command's user's) before granting */
		struct policy_list create;
		/* paths the sandbox sees its own persistent copy of; those in
		 * private_seed start as a copy of the host's (and are private
		 * too); private_env: VAR=PATH, VAR set to PATH's stand-in
		 * when no mount namespace can put it at PATH */
		struct policy_list private_, private_seed, private_env;
		bool private_tmp;
	} fs;

	struct {
		enum policy_net_mode mode;
		struct policy_scalar_origin mode_origin;
		enum policy_isolation isolation;
		struct policy_list allow, deny, allow_cidr, hosts;
		/* method and path rules (policy_http_rule()'s text): requests
		 * to their hosts are read and judged one by one */
		struct policy_list allow_http, deny_http;
		/* tunnels whose TLS may carry no server name; tunnels whose
		 * upstream may speak before the client (HOST:PORT) */
		struct policy_list allow_no_sni, server_first;
		bool private_deny;
		/* capture = off: only clients that use the proxy's address reach
		 * the network (no DNS inside, direct connects refused) */
		bool no_capture;
		char *upstream_ca;
		/* pathname Unix sockets connect() may reach: paths, fnmatch(3)
		 * globs, and a final two-star component for anything beneath a
		 * directory (supervisor/unixsock.c) */
		struct policy_list unix_connect;
		uint64_t memory_max; /* the proxy's buffers and pipes; 0: the default */
		/* milliseconds; 0: the default, which is also the most */
		uint32_t timeout_ms[_POLICY_TIMER_MAX];
		/* set by `ringfence learn` only (no policy key sets it): every
		 * name the deny rules leave is allowed, and logged */
		bool allow_any;
		/* and with learn --intercept: TLS to every host is read (a CA
		 * made for the run, trusted through the bundle), so that a key
		 * sent over HTTPS is seen */
		bool intercept_all;
	} net;

	struct policy_credential *creds;
	size_t n_creds;

	struct {
		char *run_as;
		struct policy_origin run_as_origin;
		bool env_keep_set; /* false: the built-in list applies */
		struct policy_list env_keep, env_set;
		struct policy_rlimit_value rlimits[_POLICY_RLIMIT_MAX];
	} process;

	struct {
		struct policy_list deny, allow;
		bool allow_dangerous;
		bool unix_sockets;
		enum policy_syscall_action action;
	} syscalls;

	struct {
		char *file;
		struct policy_origin origin;
	} log;

	bool expanded; /* policy_expand() has run */
};

/* Variables for expansion.  All strings are borrowed for the call. */
struct policy_vars {
	const char *cwd;  /* ${CWD} */
	const char *home; /* ~ and ${HOME} */
	/* ${VAR} lookup; NULL return means undefined (an error). */
	const char *(*getenv)(const char *name);
};

/* Reads PATH (and its includes) into a fresh policy.  On failure *ret is
 * untouched and err says where. */
int policy_load_file(const char *path, struct policy **ret, struct policy_error *err);

/* Same, from text in memory; NAME is what errors call the file.  Includes
 * are resolved relative to BASE_DIR (NULL: includes are refused). */
int policy_load_string(const char *name, const char *text, const char *base_dir,
		       struct policy **ret, struct policy_error *err);

/* The embedded default policy (policies/default.ini, compiled in), and the
 * name errors give it. */
#define POLICY_DEFAULT_NAME "<built-in default policy>"
int policy_load_default(struct policy **ret, struct policy_error *err);
extern const char policy_default_text[];

/* Command-line overrides, applied after loading and before expansion. */
enum policy_override {
	POLICY_OVERRIDE_READ = 1,
	POLICY_OVERRIDE_EXEC,
	POLICY_OVERRIDE_WRITE,
	POLICY_OVERRIDE_DENY,
	POLICY_OVERRIDE_DOMAIN,
	POLICY_OVERRIDE_CIDR,
	POLICY_OVERRIDE_NO_NETWORK,
	POLICY_OVERRIDE_LOG,
	_POLICY_OVERRIDE_MAX,
};
/* 1 when a network grant switched [network] mode = none to the proxy
 * (the caller says so), 0 otherwise, -errno with ERR on failure. */
int policy_override(struct policy *p, enum policy_override what, const char *value,
		    struct policy_error *err);

/* Expands ~, ${CWD}, ${HOME}, ${VAR} in every path and env_set value, makes
 * paths absolute and normal.  Fails on an undefined variable. */
int policy_expand(struct policy *p, const struct policy_vars *vars, struct policy_error *err);

/* Expands one string the same way (for callers that hold raw text). */
int policy_expand_string(const char *in, const struct policy_vars *vars, bool is_path, char **ret,
			 const char **ret_undefined);

void policy_free(struct policy *p);

static inline void policy_freep(struct policy **p)
{
	policy_free(*p);
}

/* Prints the effective policy as INI.  ANNOTATE, when set, is called for
 * each section to print a comment naming what enforces it. */
void policy_print(const struct policy *p, FILE *out,
		  void (*annotate)(FILE *out, const char *section, void *ud), void *ud);

/* Names for enum values, as written in policy files. */
const char *policy_net_mode_name(enum policy_net_mode m);
const char *policy_enforcement_name(enum policy_enforcement e);
const char *policy_rlimit_key(enum policy_rlimit r);
/* A timer's key ("first_bytes_timeout") and default, in milliseconds: the
 * longest a policy may set, so that a setting only ever refuses more. */
const char *policy_timer_key(enum policy_net_timer t);
uint32_t policy_timer_default_ms(enum policy_net_timer t);
/* The timer in effect (P may be NULL: the default). */
uint32_t policy_timer_ms(const struct policy *p, enum policy_net_timer t);

/* Closest candidate within edit distance 2, or NULL. */
const char *policy_did_you_mean(const char *word, const char *const *candidates, size_t n);

/* Appends to a list; the value is copied. */
int policy_list_add(struct policy_list *l, const char *value, bool required,
		    struct policy_origin origin);

/* Frees the items of a list (the list itself may be on the stack). */
void policy_list_free(struct policy_list *l);

/* True when VALUE is a syntactically valid domain rule (allow/deny). */
bool policy_domain_rule_valid(const char *value, const char **why);
/* VALUE as a host rule when it is an http:// or https:// URL with no path:
 * 1 and "HOST:PORT" in OUT; 0 when VALUE is no URL; -EINVAL and *WHY when
 * it is one that no rule can express. */
int policy_url_rule(const char *value, char *out, size_t size, const char **why);
/* ---- method and path rules (httprule.c) ---- */
#define POLICY_HTTP_METHOD_MAX 15
/* An upper-case method name as a rule lists it (GET, PROPFIND, VERSION-CONTROL). */
bool policy_http_method_valid(const char *m, size_t n);
/* METHODS ("GET,HEAD" or "") and an http(s):// URL with a path into a
 * rule's text "[METHODS ]SCHEME://HOST[:PORT]/PATH[?QUERY]" (*RET,
 * malloc'd): 1; 0 when the URL names no path and METHODS is empty (a host
 * rule); -EINVAL with *WHY. */
int policy_http_rule(const char *methods, const char *url, char **ret, const char **why);
/* A path (starting with '/', N bytes, no query) or a query (after the '?')
 * in the normal form both rules and requests are matched in, into OUT
 * (SIZE): its length, or -EINVAL (ambiguous, *WHY says how) or -E2BIG.
 * PATTERN: a rule's ('*' is the glob, "**" a whole segment). */
int policy_http_path_canon(const char *in, size_t n, bool pattern, char *out, size_t size,
			   const char **why);
int policy_http_query_canon(const char *in, size_t n, bool pattern, char *out, size_t size,
			    const char **why);
/* A rule's text, split (pointers into it). */
struct policy_http_rule_parts {
	const char *methods; /* "GET,HEAD", or NULL: any */
	size_t methods_len;
	bool https;
	const char *host; /* "api.example.com" or "*.example.com" */
	size_t host_len;
	unsigned port;	  /* 0: none written */
	const char *path; /* normal form, '/' first */
	size_t path_len;
	const char *query; /* normal form, or NULL: any query */
	size_t query_len;
};
int policy_http_rule_split(const char *rule, struct policy_http_rule_parts *ret);

/* VALUE is an address or CIDR block, as [network] allow_cidr takes. */
bool policy_cidr_valid(const char *value, const char **why);

#endif
