/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the policy parser and expansion: any input must give
 * a policy or an error, never a crash, a leak or undefined behaviour.
 *   make fuzz            (clang; runs for FUZZ_SECONDS, default 60)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../policy/policy.h"

static const char *env(const char *name)
{
	return strcmp(name, "DEFINED") == 0 ? "/defined" : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct policy *p = NULL;
	struct policy_error err;
	struct policy_vars vars = {.cwd = "/cwd", .home = "/home/u", .getenv = env};

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	/* no base directory: includes are refused, nothing is read from disk */
	if (policy_load_string("fuzz.ini", text, NULL, &p, &err) == 0) {
		(void)policy_expand(p, &vars, &err);
		policy_free(p);
	} else {
		char buf[8192];
		policy_error_format(&err, buf, sizeof(buf));
	}
	free(text);
	return 0;
}
