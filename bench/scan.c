/* SPDX-License-Identifier: MIT */
/*
 * The response scan's speed (netproxy/scan.c), for bench/scan.sh: ten
 * credentials (fifty needles: each secret, its base64 cores, its Basic
 * value), and 8 MiB of each text fed in 16 KiB pieces, the best of three,
 * in MB/s; then a response head scrubbed and a small escaped JSON body
 * scanned, in ns each.  Linked against a tree's build/ objects.
 *
 *   scan [CREDENTIALS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netproxy_internal.h"

static struct policy_item items[] = {{.value = "bench.test"}};
static struct policy_list hosts = {items, 1, 1};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	/* text that cannot hold a secret, and text dense in escapes */
	static const char *const pat[] = {
	    "plain text, nothing escaped ",
	    "\\\\",
	    "%0",
	    "%000",
	    "\\\"C:\\\\Users\\\\x\\\"",
	    "\\\\\\\"C:\\\\\\\\Users\\\\\\\\x\\\\\\\"",
	    "%25%32%46abc",
	    "{\\\"a\\\":\\\"b\\\\\\/c\\\"}",
	};
	static const char head[] =
	    "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Thu, 03 Dec 2026 14:15:00 GMT\r\n"
	    "Content-Type: application/json; charset=utf-8\r\nContent-Length: 1234\r\n"
	    "ETag: \"6565a3c0-4d2\"\r\nX-Request-Id: 7f3a9c2e-11d4-4b8e-9a61-0c5f2d8e7b13\r\n\r\n";
	static const char body[] =
	    "{\"id\":12345,\"path\":\"src\\/main.c\",\"url\":\"https:\\/\\/api.example.test\\/r?"
	    "ref=main%2Fdev\",\"content\":\"aGVsbG8gd29ybGQ=\\n\",\"msg\":\"caf\\u00e9 "
	    "\\\"q\\\"\"}\n";
	static char sec[10][48];
	struct nx_cred c[10];
	struct nx_scrub *s;
	int nc = argc > 1 ? atoi(argv[1]) : 10;
	size_t n = 8u << 20;
	char *in = malloc(n), *out = malloc(n + 8192);

	if (nc < 1 || nc > 10 || !in || !out)
		return 2;
	for (int i = 0; i < nc; i++) {
		snprintf(sec[i], sizeof(sec[i]), "%02dd3adbeef0123456789abcdef0123456", i);
		c[i] = (struct nx_cred){"b",
					"ringfence_b_AAAAAAAAAAAAAAAAAAAAAAAA",
					36,
					sec[i],
					strlen(sec[i]),
					&hosts,
					false,
					POLICY_INJECT_BASIC_USER,
					NULL,
					false,
					NULL,
					0,
					0};
	}
	if (nx_scrub_new(c, (size_t)nc, &s) < 0)
		return 2;
	for (size_t p = 0; p < sizeof(pat) / sizeof(pat[0]); p++) {
		size_t pl = strlen(pat[p]);
		double best = 0;
		int r = 0;
		for (size_t i = 0; i < n; i++)
			in[i] = pat[p][i % pl];
		for (int rep = 0; rep < 3; rep++) {
			struct nx_scan *sc;
			size_t ol;
			double a;
			if (nx_scan_new(s, &sc) < 0)
				return 2;
			nx_scan_reset(sc, NX_FRAME_PLAIN);
			a = now();
			for (size_t i = 0; i < n && !r; i += 16384)
				r = nx_scan_feed(sc, in + i, 16384, out, &ol);
			a = (double)n / 1e6 / (now() - a);
			best = a > best ? a : best;
			nx_scan_free(sc);
		}
		printf("%-34s %8.1f MB/s%s\n", pat[p], best, r ? " (cut)" : "");
	}
	{
		double hb = 1e9, bb = 1e9;
		struct nx_scan *sc;
		size_t ol;
		if (nx_scan_new(s, &sc) < 0)
			return 2;
		for (int rep = 0; rep < 5; rep++) {
			double a = now(), b, e;
			for (int k = 0; k < 20000; k++) {
				char *o;
				size_t l;
				unsigned hits;
				nx_scrub_head(s, head, sizeof(head) - 1, &o, &l, &hits);
				free(o);
			}
			b = now();
			for (int k = 0; k < 20000; k++) {
				nx_scan_reset(sc, NX_FRAME_PLAIN);
				nx_scan_feed(sc, body, sizeof(body) - 1, out, &ol);
				nx_scan_flush(sc, out);
			}
			e = now();
			hb = b - a < hb ? b - a : hb;
			bb = e - b < bb ? e - b : bb;
		}
		nx_scan_free(sc);
		printf("%-34s %8.0f ns\n%-34s %8.0f ns\n", "a response head scrubbed",
		       hb / 20000 * 1e9, "a 160-byte escaped JSON body", bb / 20000 * 1e9);
	}
	nx_scrub_free(s);
	free(in);
	free(out);
	return 0;
}
