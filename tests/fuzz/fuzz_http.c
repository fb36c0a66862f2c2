/* SPDX-License-Identifier: MIT */
/* libFuzzer: the proxy's parsers on arbitrary bytes (request and response
 * heads, chunked bodies, SOCKS5 messages).  Each must answer without reading
 * out of bounds, and what it reports must lie inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../netproxy/netproxy_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	struct nx_chunk c = { 0 };
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
	free(buf);
	free(req);
	free(resp);
	return 0;
}
