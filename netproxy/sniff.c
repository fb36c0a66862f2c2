/* SPDX-License-Identifier: MIT */
/*
 * What the first bytes of a tunnel are, before anything of it is relayed.
 * Pure (no I/O), for the unit tests; proxy.c acts on the answer.
 *
 * Three kinds matter to the policy: a TLS ClientHello (its server name must
 * be the tunnel's host), an HTTP/1 request (every request's Host must be),
 * and anything else (passed opaque only where the policy granted the port
 * explicitly).  The line is drawn so that nothing a server would take for
 * an HTTP/1 request is called "anything else": the request line of HTTP/1.x
 * carries "HTTP/" (servers that accept "http/" too are covered by matching
 * without case), empty lines and blanks before it are skipped as servers
 * skip them,
 * and a text line is read whole before it is judged.  HTTP/0.9 ("GET /")
 * has no headers, so it cannot name another host.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <strings.h>

#include "netproxy_internal.h"

/* "HTTP/" in P[0..N), any case */
static bool has_http_version(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 5 <= n; i++)
		if (strncasecmp((const char *)p + i, "HTTP/", 5) == 0)
			return true;
	return false;
}

enum nx_stream nx_first_bytes(const uint8_t *p, size_t n, bool final, char sni[NX_HOST_MAX])
{
	size_t i = 0, eol;

	sni[0] = '\0';
	if (n == 0)
		return final ? NX_STREAM_OTHER : NX_STREAM_MORE;
	if (p[0] == 0x16) {
		switch (nx_client_hello(p, n, sni)) {
		case NX_HELLO_OK:
			return NX_STREAM_TLS;
		case NX_HELLO_MORE:
			return final ? NX_STREAM_TLS_BAD : NX_STREAM_MORE;
		case NX_HELLO_BAD:
		case NX_HELLO_NOT_TLS:
		default:
			return NX_STREAM_TLS_BAD;
		}
	}
	/* empty lines a server skips before a request line, and the blanks a
	 * lenient one skips too (a parser that splits on whitespace, such as
	 * Python's http.server, takes " GET / HTTP/1.1" for a request) */
	while (i < n && (p[i] == ' ' || (p[i] >= '\t' && p[i] <= '\r')))
		i++;
	if (i == n)
		return final ? NX_STREAM_OTHER : NX_STREAM_MORE;
	/* a binary protocol: no request line starts with a control byte or a
	 * byte past ASCII, and such a client may wait for its answer without
	 * ever sending a newline */
	if (p[i] < 0x20 || p[i] >= 0x7f)
		return NX_STREAM_OTHER;
	/* a text line: judged whole */
	for (eol = i; eol < n && p[eol] != '\n'; eol++)
		;
	if (eol == n && !final)
		return NX_STREAM_MORE;
	return has_http_version(p + i, eol - i) ? NX_STREAM_HTTP : NX_STREAM_OTHER;
}
