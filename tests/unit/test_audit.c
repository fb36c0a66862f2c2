/* SPDX-License-Identifier: MIT */
/* The audit log: its rate limit on network events (a loop of refusals cannot
 * grow the log without bound, and nothing held back goes uncounted), and
 * lines that are JSON whatever goes into them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../supervisor/supervisor.h"

static void test_network_events_are_rate_limited(void **state)
{
	char path[] = "/tmp/rf-audit-XXXXXX";
	int fd = mkstemp(path);
	unsigned long written = 0, suppressed = 0, lines = 0;
	char line[4096];
	FILE *f;
	(void)state;

	assert_true(fd >= 0);
	for (int i = 0; i < 5000; i++)
		if (audit_rate_ok(fd)) {
			audit_event(fd, "net.deny", "\"n\":%d", i);
			written++;
		}
	audit_flush_suppressed(fd);
	assert_false(audit_rate_ok(-1)); /* no log: nothing to write */
	/* the burst, and what the rate refilled while the loop ran */
	assert_in_range(written, 1000, 1200);

	f = fdopen(fd, "r");
	assert_non_null(f);
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		const char *ev = strstr(line, "\"events\":");
		lines++;
		if (strstr(line, "\"event\":\"audit.suppressed\"")) {
			assert_non_null(ev);
			suppressed += strtoul(ev + 9, NULL, 10);
		}
	}
	fclose(f);
	unlink(path);
	assert_int_equal(written + suppressed, 5000); /* every event accounted for */
	assert_true(lines <= written + 2);
}

/* Bytes that are not UTF-8 (a path can hold any) become U+FFFD; well-formed
 * sequences pass as they are. */
static void test_json_string_is_always_valid_utf8(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"plain", "\"plain\""},
	    {"q\"b\\", "\"q\\\"b\\\\\""},
	    {"\x01\x7f", "\"\\u0001\\u007f\""},
	    {"caf\xc3\xa9", "\"caf\xc3\xa9\""},
	    {"\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""},
	    {"a\xff"
	     "b",
	     "\"a\\ufffdb\""},
	    {"\xc3", "\"\\ufffd\""},				      /* cut short */
	    {"\xc0\xaf", "\"\\ufffd\\ufffd\""},			      /* overlong '/' */
	    {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},	      /* a surrogate */
	    {"\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""}, /* > U+10FFFF */
	    /* bidirectional controls (RLO, RLI, ALM, RLM) escaped, not a neighbour */
	    {"a\xe2\x80\xae"
	     "b\xe2\x81\xa7\xd8\x9c\xe2\x80\x8f",
	     "\"a\\u202eb\\u2067\\u061c\\u200f\""},
	    {"\xe2\x80\xaf\xe2\x81\xa5", "\"\xe2\x80\xaf\xe2\x81\xa5\""},
	};
	char buf[128];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_string(buf, sizeof(buf), cases[i].in);
		assert_string_equal(buf, cases[i].out);
	}
}

/* A payload longer than a line is replaced, not cut in the middle of a
 * field: the line still parses. */
static void test_long_event_is_marked_not_cut(void **state)
{
	char path[] = "/tmp/rf-audit-XXXXXX";
	int fd = mkstemp(path);
	char big[6000], line[8192];
	FILE *f;
	(void)state;

	assert_true(fd >= 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	audit_event(fd, "protect.created", "\"path\":\"%s\"", big);
	audit_event(fd, "exit", NULL);
	f = fdopen(fd, "r");
	assert_non_null(f);
	rewind(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_non_null(strstr(line, "\"event\":\"protect.created\""));
	assert_non_null(strstr(line, ",\"truncated\":true}\n"));
	assert_null(strstr(line, "xxx"));
	assert_non_null(fgets(line, sizeof(line), f));
	assert_non_null(strstr(line, "\"event\":\"exit\""));
	assert_non_null(strstr(line, "}\n"));
	assert_null(strstr(line, ",}"));
	fclose(f);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_network_events_are_rate_limited),
	    cmocka_unit_test(test_json_string_is_always_valid_utf8),
	    cmocka_unit_test(test_long_event_is_marked_not_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
