/* SPDX-License-Identifier: MIT */
/* libFuzzer: the proxy's parsers on arbitrary bytes (request and response
 * heads, chunked bodies, SOCKS5 messages, the ClientHello reader, the
 * placeholder rewriter and base64).  Each must answer without reading
 * out of bounds, and what it reports must lie inside the input. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../netproxy/netproxy_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct policy_item hosts_items[] = {{.value = "good.test"}};
static struct policy_list hosts = {hosts_items, 1, 1};
static const struct nx_cred creds[] = {
    {"a", "ringfence_a_AAAAAAAAAAAAAAAA", 28, "secret-a", 8, &hosts},
    {"b", "ringfence_b_BBBBBBBBBBBBBBBB", 28, "s b", 3, &hosts},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy of exactly SIZE bytes, so ASan sees any read past it */
	char *buf = malloc(size ? size : 1);
	struct nx_request *req = malloc(sizeof(*req));
	struct nx_response *resp = malloc(sizeof(*resp));
	int status;
	const char *why;

	memcpy(buf, data, size);
	if (nx_parse_request(buf, size, req, &status, &why) == NX_PARSE_OK) {
		if (req->head_len > size)
			abort();
		for (size_t i = 0; i < req->n_headers; i++)
			(void)nx_header_is_hop(req, &req->headers[i]);
	}
	if (nx_parse_response(buf, size, size & 1, resp, &why) == NX_PARSE_OK &&
	    resp->head_len > size)
		abort();
	struct nx_chunk c = {0};
	bool done;
	long n = nx_chunk_feed(&c, buf, size, &done);
	if (n > (long)size)
		abort();
	bool noauth;
	long g = nx_socks_greeting((const uint8_t *)buf, size, &noauth);
	if (g > (long)size)
		abort();
	struct nx_socks_request sr;
	enum nx_socks_reply code;
	long r = nx_socks_request((const uint8_t *)buf, size, &sr, &code, &why);
	if (r > (long)size)
		abort();
	char sni[NX_HOST_MAX];
	if (nx_client_hello((const uint8_t *)buf, size, sni) == NX_HELLO_OK &&
	    strlen(sni) >= NX_HOST_MAX)
		abort();
	/* the rewriter, as a bound and as an unbound host, every kind of field */
	char *out = malloc(4 * size + 64);
	for (int w = NX_CRED_TARGET; w <= NX_CRED_HEADER_AUTH; w++) {
		struct nx_cred_ctx x;
		size_t on;
		nx_cred_ctx_init(&x, creds, 2, (size & 2) ? "good.test" : "evil.test", 443);
		int rr =
		    nx_cred_field(&x, (enum nx_cred_where)w, buf, size, out, 4 * size + 64, &on);
		if (rr > 0 && on > 4 * size + 64)
			abort();
		if (rr == -EACCES && !x.blocked)
			abort();
	}
	long d = nx_base64_decode(buf, size, out, size);
	if (d > (long)size)
		abort();
	free(out);
	free(buf);
	free(req);
	free(resp);
	return 0;
}
