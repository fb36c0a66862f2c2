/* SPDX-License-Identifier: MIT */
/* libFuzzer: gitconfig.c's reading of a git configuration the sandbox
 * wrote, on arbitrary bytes: git's lines, sections and values (quotes,
 * escapes, continued lines) and the shell's words of a command git runs
 * (quotes, `cd`, subshells, redirections, expansions, python's -m).  The
 * reader must answer without reading out of bounds or looping, each value
 * it hands on must be one a caller can use (a kind it knows, a string
 * neither empty nor PATH_MAX long), and the same bytes must give the same
 * values (nothing kept from one call to the next).  The same for the bytes
 * read as a hook's script, and as a hook manager's configuration
 * (hookconf.c: YAML's, TOML's and JSON's values). */
#include "../../supervisor/gitconfig.c"
#include "../../supervisor/hookconf.c"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* what gitconfig.c calls outside the reading: nothing of it is fuzzed */
void die(const char *fmt, ...)
{
	(void)fmt;
	abort();
}

/* (util.c's, as it has them: grown by supervisor.h's grow_for()) */
void strv_add(char ***v, size_t *n, const char *s)
{
	char **nv = grow_for(*v, *n, sizeof(*nv));

	*v = nv;
	if (!(nv[*n] = strdup(s)))
		abort();
	(*n)++;
}

void strv_clear(char ***v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

/* what one reading handed on: how many values, and a hash of them all */
struct seen {
	size_t n;
	uint64_t hash;
};

static void check(void *ud, enum git_pointer kind, const char *value)
{
	struct seen *s = ud;
	size_t len = strlen(value);

	if (kind < PTR_HOOKS || kind >= _PTR_MAX || len == 0 || len >= PATH_MAX)
		abort();
	s->n++;
	s->hash = (s->hash ^ (uint64_t)kind) * 0x100000001b3ull; /* FNV-1a */
	for (size_t i = 0; i <= len; i++)
		s->hash = (s->hash ^ (unsigned char)value[i]) * 0x100000001b3ull;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen one = {0, 0xcbf29ce484222325ull}, two = one;

	gitconfig_pointers((const char *)data, size, check, &one);
	gitconfig_pointers((const char *)data, size, check, &two);
	if (one.n != two.n || one.hash != two.hash)
		abort();
	/* the same bytes as a hook's script (gitconfig_script_pointers()) */
	one = two = (struct seen){0, 0xcbf29ce484222325ull};
	gitconfig_script_pointers((const char *)data, size, ".git/hooks", check, &one);
	gitconfig_script_pointers((const char *)data, size, ".git/hooks", check, &two);
	if (one.n != two.n || one.hash != two.hash)
		abort();
	/* and as a hook manager's or a tool's configuration (hookconf_pointers()) */
	one = two = (struct seen){0, 0xcbf29ce484222325ull};
	hookconf_pointers((const char *)data, size, size % _HOOKCONF_MAX, ".devcontainer", check,
			  &one);
	hookconf_pointers((const char *)data, size, size % _HOOKCONF_MAX, ".devcontainer", check,
			  &two);
	if (one.n != two.n || one.hash != two.hash)
		abort();
	return 0;
}
