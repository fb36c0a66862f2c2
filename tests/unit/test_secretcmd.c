/* SPDX-License-Identifier: MIT */
/* source = cmd: (supervisor/secretcmd.c): what a command's output must be. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "../../supervisor/supervisor.h"

static void test_output_trimmed_and_checked(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out, *why;
	} t[] = {
	    {"token\n", "token", NULL},
	    {"  \t token with inner blanks \r\n\n", "token with inner blanks", NULL},
	    {"a\tb", "a\tb", NULL}, /* a tab inside is a header value's own */
	    {"", NULL, "it printed nothing"},
	    {" \n\r\t ", NULL, "it printed nothing"},
	    {"a\nb", NULL, "control character"},
	    {"a\rb\n", NULL, "control character"},
	    {"tok\x7f", NULL, "control character"},
	    {"tok\x01", NULL, "control character"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char buf[64], why[128];
		size_t n = strlen(t[i].in);
		memcpy(buf, t[i].in, n);
		n = secretcmd_check_output(buf, n, why, sizeof(why));
		if (t[i].out) {
			assert_int_equal(n, strlen(t[i].out));
			assert_memory_equal(buf, t[i].out, n);
		} else {
			assert_int_equal(n, 0);
			assert_non_null(strstr(why, t[i].why));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_output_trimmed_and_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
