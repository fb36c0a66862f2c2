/* SPDX-License-Identifier: MIT */
/* libFuzzer: gitconfig.c's reading of a git configuration the sandbox
 * wrote, on arbitrary bytes: git's lines, sections and values (quotes,
 * escapes, continued lines) and the shell's words of a command git runs
 * (quotes, `cd`, subshells, redirections, expansions, python's -m).  The
 * reader must answer without reading out of bounds or looping, each value
 * it hands on must be one a caller can use (a kind it knows, a string
 * neither empty nor PATH_MAX long), and the same bytes must give the same
 * values (nothing kept from one call to the next). */
#include "../../supervisor/gitconfig.c"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* what gitconfig.c calls outside the reading: nothing of it is fuzzed */
void warn(const char *fmt, ...)
{
	(void)fmt;
}
void die(const char *fmt, ...)
{
	(void)fmt;
	abort();
}

static void check(void *ud, enum git_pointer kind, const char *value)
{
	size_t len = strlen(value);

	(*(size_t *)ud)++;
	if (kind < PTR_HOOKS || kind >= _PTR_MAX || len == 0 || len >= PATH_MAX)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = 0, again = 0;

	gitconfig_pointers((const char *)data, size, check, &n);
	gitconfig_pointers((const char *)data, size, check, &again);
	if (n != again)
		abort();
	return 0;
}
