/* SPDX-License-Identifier: MIT */
/* The audit log's rate limit on network events: a loop of refusals cannot
 * grow the log without bound, and nothing held back goes uncounted. */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_network_events_are_rate_limited),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
