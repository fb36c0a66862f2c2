/* SPDX-License-Identifier: MIT */
/*
 * The grants a learning run proposes, grouped (ringfence learn -o).  Pure:
 * tests/unit/test_learn.c drives it.
 *
 * A run touches thousands of files in a few dozen directories; a policy
 * line per file would be unreadable and would break on the next run's new
 * file names, one line for "/" would grant everything.  So, for each right:
 * the used paths are sorted, a path beneath another is folded into it, and
 * two neighbours merge into their closest common directory when that may
 * be granted (not "/", not a home directory or above one, not at or beneath
 * a deny path) and lies at least two levels deep: ~/.cache/pip/http and
 * ~/.cache/pip/wheels become ~/.cache/pip, /etc/a and /etc/b stay two lines.
 * A write grant covers a read, so reads beneath a write grant are dropped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor.h"

#define MIN_DEPTH 2

static bool at_or_beneath(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

size_t learn_depth(const char *path)
{
	size_t d = 0;

	for (const char *c = path; *c; c++)
		if (*c == '/' && c[1])
			d++;
	return d;
}

bool learn_grantable(const char *path, char *const *never, size_t n_never, char *const *deny,
		     size_t n_deny)
{
	if (path[0] != '/' || strcmp(path, "/") == 0)
		return false;
	/* a home, or a directory above one, would grant the home */
	for (size_t i = 0; i < n_never; i++)
		if (never[i] && at_or_beneath(never[i], path))
			return false;
	for (size_t i = 0; i < n_deny; i++)
		if (deny[i] && at_or_beneath(path, deny[i]))
			return false;
	return true;
}

/* The closest common directory of A and B, into OUT (at least "/"). */
static void common_dir(const char *a, const char *b, char *out, size_t size)
{
	size_t n = 0, last = 0;

	while (a[n] && a[n] == b[n]) {
		if (a[n] == '/')
			last = n;
		n++;
	}
	/* A is B's ancestor, or the other way round, or they share a whole
	 * last component */
	if ((a[n] == '\0' && (b[n] == '/' || b[n] == '\0')) || (b[n] == '\0' && a[n] == '/'))
		last = n;
	if (last == 0) {
		snprintf(out, size, "/");
		return;
	}
	snprintf(out, size, "%.*s", (int)last, a);
}

struct node {
	char *path;
	unsigned long count;
	size_t n_uses;
	char *why;
};

static int cmp_node(const void *x, const void *y)
{
	return strcmp(((const struct node *)x)->path, ((const struct node *)y)->path);
}

static void node_free(struct node *n)
{
	free(n->path);
	free(n->why);
}

/* Folds paths beneath another into it; NODES sorted.  Returns the new count. */
static size_t fold(struct node *nodes, size_t n)
{
	size_t out = 0;

	for (size_t i = 0; i < n; i++) {
		if (out && at_or_beneath(nodes[i].path, nodes[out - 1].path)) {
			nodes[out - 1].count += nodes[i].count;
			nodes[out - 1].n_uses += nodes[i].n_uses;
			node_free(&nodes[i]);
			continue;
		}
		nodes[out++] = nodes[i];
	}
	return out;
}

static int group_one(struct node *nodes, size_t n, char *const *never, size_t n_never,
		     char *const *deny, size_t n_deny, size_t *ret_n)
{
	char lca[4096];
	bool changed = true;

	while (changed && n > 1) {
		changed = false;
		qsort(nodes, n, sizeof(*nodes), cmp_node);
		n = fold(nodes, n);
		for (size_t i = 0; i + 1 < n; i++) {
			common_dir(nodes[i].path, nodes[i + 1].path, lca, sizeof(lca));
			if (learn_depth(lca) < MIN_DEPTH ||
			    !learn_grantable(lca, never, n_never, deny, n_deny))
				continue;
			char *p = strdup(lca);
			if (!p) {
				for (size_t j = 0; j < n; j++)
					node_free(&nodes[j]);
				return -ENOMEM;
			}
			free(nodes[i].path);
			nodes[i].path = p;
			nodes[i].count += nodes[i + 1].count;
			nodes[i].n_uses += nodes[i + 1].n_uses;
			node_free(&nodes[i + 1]);
			memmove(&nodes[i + 1], &nodes[i + 2], (n - i - 2) * sizeof(*nodes));
			n--;
			changed = true;
		}
	}
	if (n)
		qsort(nodes, n, sizeof(*nodes), cmp_node);
	*ret_n = fold(nodes, n);
	return 0;
}

void learn_grants_free(struct learn_grant *g, size_t n)
{
	for (size_t i = 0; g && i < n; i++) {
		free(g[i].path);
		free(g[i].why);
	}
	free(g);
}

int learn_group(const struct learn_use *uses, size_t n, char *const *never, size_t n_never,
		char *const *deny, size_t n_deny, struct learn_grant **ret, size_t *ret_n)
{
	static const enum learn_right order[] = {LEARN_WRITE, LEARN_EXEC, LEARN_READ};
	struct learn_grant *out = NULL;
	size_t n_out = 0;
	struct node *nodes = NULL;
	int r = 0;

	if (n) {
		out = calloc(n * ARRAY_SIZE(order), sizeof(*out));
		nodes = calloc(n, sizeof(*nodes));
		if (!out || !nodes) {
			free(out);
			free(nodes);
			return -ENOMEM;
		}
	}
	for (size_t o = 0; o < ARRAY_SIZE(order); o++) {
		size_t k = 0, n_writes = n_out;
		for (size_t i = 0; i < n; i++) {
			if (!(uses[i].rights & order[o]) ||
			    !learn_grantable(uses[i].path, never, n_never, deny, n_deny))
				continue;
			/* a read where a write grant goes is the write grant's */
			bool covered = false;
			for (size_t w = 0; order[o] == LEARN_READ && w < n_writes; w++)
				if (out[w].right == LEARN_WRITE &&
				    at_or_beneath(uses[i].path, out[w].path))
					covered = true;
			if (covered)
				continue;
			nodes[k] = (struct node){.path = strdup(uses[i].path),
						 .count = uses[i].count,
						 .n_uses = 1,
						 .why = strdup(uses[i].why ? uses[i].why : "")};
			if (!nodes[k].path || !nodes[k].why) {
				for (size_t j = 0; j <= k; j++)
					node_free(&nodes[j]);
				r = -ENOMEM;
				goto fail;
			}
			k++;
		}
		size_t m = k;
		r = group_one(nodes, k, never, n_never, deny, n_deny, &m);
		if (r < 0)
			goto fail; /* group_one freed the nodes */
		for (size_t i = 0; i < m; i++)
			out[n_out++] = (struct learn_grant){.right = order[o],
							    .path = nodes[i].path,
							    .count = nodes[i].count,
							    .n_uses = nodes[i].n_uses,
							    .why = nodes[i].why};
	}
	free(nodes);
	*ret = out;
	*ret_n = n_out;
	return 0;
fail:
	free(nodes);
	learn_grants_free(out, n_out);
	return r;
}
