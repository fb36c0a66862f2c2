/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: the response scan (scan.c, scrub.c) against an independent
 * reading of the same forms (netproxy_text_carries_n(), cred_detect.c:
 * the text decoded whole, three rounds of percent and JSON escapes, then
 * searched, base64 cores included).  Whatever bytes an echo holds:
 *  - a head that reading finds a secret in is scrubbed, and the scrubbed
 *    head carries none;
 *  - a stream scanned in pieces of any size either is cut or lets through
 *    bytes that carry none.
 * An input is [1 byte: the pieces' size] [the bytes].  The secrets begin
 * with hex digits (an escape's first characters before one must not hide
 * it), hold '/', '+' and '=' (which echoes encode), or are a token with a
 * public prefix.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../netproxy/netproxy_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct policy_item hosts_items[] = {{.value = "good.test"}};
static struct policy_list hosts = {hosts_items, 1, 1};
static const struct nx_cred creds[] = {
    {"hex", "ringfence_hex_AAAAAAAAAAAAAAAA", 30, "d3adbeef0123456789abcdef", 24, &hosts},
    {"b64", "ringfence_b64_BBBBBBBBBBBBBBBB", 30, "4f/Ab+cd=EF0123456789xy", 23, &hosts},
    {"tok", "ringfence_tok_CCCCCCCCCCCCCCCC", 30, "AIzaSyFake0123456789", 20, &hosts},
};
#define N_CREDS (sizeof(creds) / sizeof(creds[0]))

static bool carries(const char *p, size_t n)
{
	for (size_t k = 0; k < N_CREDS; k++)
		if (netproxy_text_carries_n(p, n, creds[k].secret, creds[k].secret_len))
			return true;
	return false;
}

/* The scrubbed head, each placeholder put in blanked (a byte no secret
 * or encoding holds): the placeholders are public, and one's last
 * characters with what follows it may spell a secret the text did not
 * hold ("...AAAA" + "IzaSy..."). */
static bool carries_besides_placeholders(char *p, size_t n)
{
	for (size_t k = 0; k < N_CREDS; k++) {
		const char *ph = creds[k].placeholder;
		size_t pl = creds[k].placeholder_len;
		for (char *at = p; (at = memmem(at, n - (size_t)(at - p), ph, pl)); at += pl)
			memset(at, 1, pl);
	}
	return carries(p, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nx_scrub *s;
	struct nx_scan *sc;
	char *in, *out, *clean = NULL;
	size_t step, len = 0, got, clean_len;
	unsigned hits;
	int r = 0;

	if (size < 1)
		return 0;
	if (!s && nx_scrub_new(creds, N_CREDS, &s) < 0)
		abort();
	step = data[0] ? data[0] : 1;
	size--;
	/* a copy of exactly SIZE bytes, so ASan sees any read past it */
	in = malloc(size ? size : 1);
	out = malloc(size ? size : 1); /* what a stream lets through is at most what came */
	if (!in || !out)
		abort();
	memcpy(in, data + 1, size);

	int hr = nx_scrub_head(s, in, size, &clean, &clean_len, &hits);
	if (hr == 1 && carries_besides_placeholders(clean, clean_len))
		abort(); /* scrubbed, and a secret left */
	if (hr == 0 && carries(in, size))
		abort(); /* a secret not seen */
	free(clean);

	if (nx_scan_new(s, &sc) < 0)
		abort();
	nx_scan_reset(sc, NX_FRAME_PLAIN);
	for (size_t i = 0; i < size && r == 0; i += step) {
		size_t k = size - i < step ? size - i : step;
		r = nx_scan_feed(sc, in + i, k, out + len, &got);
		if (r == 0)
			len += got;
	}
	if (r == 0)
		len += nx_scan_flush(sc, out + len);
	if (r == 0 && (len != size || memcmp(out, in, size) != 0))
		abort(); /* let through, but not as it came */
	if (r == 0 && carries(out, len))
		abort(); /* let through with a secret */
	nx_scan_free(sc);
	free(out);
	free(in);
	return 0;
}
