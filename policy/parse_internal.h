/* SPDX-License-Identifier: MIT */
/*
 * policy/parse_internal.h — what the files of the policy parser share
 * (parse.c has the picture): parse.c (the lines handed to inih, the files
 * opened, walked and loaded, the errors), parse_keys.c (the sections, their
 * keys and what each sets), parse_values.c (how a value is read: a list's
 * tokens, paths, names, scalars, durations), parse_net.c (host rules, URLs,
 * method and path rules, addresses).  Not for others: policy.h has the
 * interface.
 */
#ifndef RINGFENCE_POLICY_PARSE_INTERNAL_H
#define RINGFENCE_POLICY_PARSE_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/macros.h"
#include "policy.h"
#include "policy_internal.h"

#define INIH_MAX_SECTION 50

struct file_id {
	dev_t dev;
	ino_t ino;
};

struct parse_ctx {
	struct policy *p;
	struct policy_error *err;
	bool failed;

	const char *file; /* interned in p->files */
	char dir[PATH_MAX];
	const char *buf;
	size_t len, pos;
	unsigned line;
	unsigned section_line; /* line of the last [section] header */
	bool reader_error;

	bool any_setting; /* include must come first */
	int depth;
	struct file_id *stack;

	/* per-file scalar tracking: key id -> line it was set on in THIS file */
	unsigned scalar_line[SCALAR_MAX];
	struct policy_credential *cur_cred;
	char cur_section[INIH_MAX_SECTION + 1];
};

/* parse.c */

/* The first error, at C's file and line (KEY may be NULL); returns 0,
 * which stops inih. */
_printf_(3, 4) int parse_fail(struct parse_ctx *c, const char *key, const char *fmt, ...);
/* PATH read into P: the first file (PARENT NULL) or an include of PARENT's,
 * DEPTH deep in STACK.  0, or -errno with ERR. */
int parse_load_file(struct parse_ctx *parent, const char *path, struct policy_error *err,
		    struct policy *p, struct file_id *stack, int depth);

/* parse_keys.c */

/* inih's handler: one key of one section, handed to its section's. */
int parse_handler(void *user, const char *section, const char *name, const char *value);
bool parse_section_known(struct parse_ctx *c, const char *raw);

/* parse_values.c and parse_net.c: those returning int return 1, or 0 with
 * C's error (parse_fail()).  A parse_tok_ function reads one token for
 * parse_for_each_token() into the list UD. */

int parse_for_each_token(struct parse_ctx *c, const char *key, const char *value, bool commas,
			 int (*fn)(struct parse_ctx *c, const char *key, char *tok, void *ud),
			 void *ud);
struct policy_origin parse_here(struct parse_ctx *c);
int parse_add_to_list(struct parse_ctx *c, struct policy_list *l, const char *tok, bool required);
int parse_tok_path(struct parse_ctx *c, const char *key, char *tok, void *ud);
int parse_tok_plain_path(struct parse_ctx *c, const char *key, char *tok, void *ud);
int parse_tok_private_env(struct parse_ctx *c, const char *key, char *tok, void *ud);
bool parse_valid_env_name(const char *s, size_t n, bool glob);
int parse_tok_env_glob(struct parse_ctx *c, const char *key, char *tok, void *ud);
int parse_tok_env_set(struct parse_ctx *c, const char *key, char *tok, void *ud);
int parse_tok_syscall(struct parse_ctx *c, const char *key, char *tok, void *ud);
int parse_tok_argv(struct parse_ctx *c, const char *key, char *tok, void *ud);
int parse_choice(struct parse_ctx *c, const char *key, const char *value, const char *const *names,
		 size_t n, int *ret);
int parse_bool(struct parse_ctx *c, const char *key, const char *value, bool *ret);
int parse_set_string(struct parse_ctx *c, char **dst, const char *value);
int parse_scalar_once(struct parse_ctx *c, enum scalar_id id, const char *key);
int parse_single_token(struct parse_ctx *c, const char *key, const char *value);
int parse_timer(struct parse_ctx *c, const char *k, const char *value, enum policy_net_timer t);
int parse_cred_duration(struct parse_ctx *c, const char *k, const char *value, uint32_t min,
			uint32_t max, uint32_t *ret);
int parse_inject(struct parse_ctx *c, const char *k, const char *value,
		 struct policy_credential *cr);
int parse_rlimit(struct parse_ctx *c, const char *k, const char *value,
		 struct policy_rlimit_value *rl);

int parse_tok_domain(struct parse_ctx *c, const char *key, char *tok, void *ud);
int parse_net_rules(struct parse_ctx *c, const char *key, const char *value,
		    struct policy_list *hosts, struct policy_list *http, bool deny);
int parse_tok_server_first(struct parse_ctx *c, const char *key, char *tok, void *ud);
int parse_tok_cidr(struct parse_ctx *c, const char *key, char *tok, void *ud);
int parse_tok_hosts(struct parse_ctx *c, const char *key, char *tok, void *ud);

#endif
