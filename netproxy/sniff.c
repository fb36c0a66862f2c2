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
 * and a text line is read whole before it is judged (one, or blank lines,
 * the buffer cannot hold to their end are refused).  HTTP/0.9 ("GET /")
 * has no headers, so it cannot name another host; its answer is not read,
 * which is why "anything else" is refused to a ruled or bound host
 * (nx_decide_stream()).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
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
	 * Python's http.server, takes " GET / HTTP/1.1" for a request, and
	 * str.split() takes \x1c-\x1f, \x85 and \xa0 for blanks too: an
	 * outside review led a request with one of them past the check) */
	while (i < n && (p[i] == ' ' || (p[i] >= '\t' && p[i] <= '\r') ||
			 (p[i] >= 0x1c && p[i] <= 0x1f) || p[i] == 0x85 || p[i] == 0xa0))
		i++;
	if (i == n)
		return final ? NX_STREAM_UNENDED : NX_STREAM_MORE;
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
	if (has_http_version(p + i, eol - i))
		return NX_STREAM_HTTP;
	/* a first line the buffer cannot hold ("HTTP/" may follow past it:
	 * an outside review's 70,000-byte path), or blank lines that fill it
	 * (nginx and Node skip any number before a request): no reading of
	 * it says it is no HTTP request */
	return eol == n ? NX_STREAM_UNENDED : NX_STREAM_OTHER;
}

/* ---- the ClientHello ------------------------------------------------------------------ */

/* Read by hand: OpenSSL parses a ClientHello only inside a handshake it is
 * running, and an opaque tunnel's is never ours to answer. */
/* Long: the ClientHello's fields read in wire order. */
enum nx_hello nx_client_hello(const uint8_t *p, size_t n, char sni[NX_HOST_MAX])
{
	uint8_t hs[65536];
	size_t hn = 0, off = 0, need = 0;

	sni[0] = '\0';
	if (n == 0)
		return NX_HELLO_MORE;
	if (p[0] != 0x16)
		return NX_HELLO_NOT_TLS;
	/* gather the handshake message from as many records as it spans */
	for (;;) {
		size_t rl;
		if (n - off < 5)
			return NX_HELLO_MORE;
		if (p[off] != 0x16 || p[off + 1] != 3)
			return NX_HELLO_BAD;
		rl = (size_t)p[off + 3] << 8 | p[off + 4];
		if (rl == 0 || rl > 16384 + 256)
			return NX_HELLO_BAD;
		if (n - off - 5 < rl)
			return NX_HELLO_MORE;
		if (hn + rl > sizeof(hs))
			return NX_HELLO_BAD;
		memcpy(hs + hn, p + off + 5, rl);
		hn += rl;
		off += 5 + rl;
		if (hn >= 4) {
			if (hs[0] != 1)
				return NX_HELLO_BAD; /* not a ClientHello */
			need = 4 + ((size_t)hs[1] << 16 | (size_t)hs[2] << 8 | hs[3]);
			if (need > sizeof(hs))
				return NX_HELLO_BAD;
			if (hn >= need)
				break;
		}
	}
	/* version(2) random(32) session_id cipher_suites compression extensions */
	size_t i = 4 + 2 + 32, end = need;
#define NEED(k)                                                                                    \
	do {                                                                                       \
		if (i + (k) > end)                                                                 \
			return NX_HELLO_BAD;                                                       \
	} while (0)
	NEED(1);
	i += 1 + hs[i];
	NEED(2);
	i += 2 + ((size_t)hs[i] << 8 | hs[i + 1]);
	NEED(1);
	i += 1 + hs[i];
	if (i == end)
		return NX_HELLO_OK; /* no extensions */
	NEED(2);
	size_t ext_end = i + 2 + ((size_t)hs[i] << 8 | hs[i + 1]);
	i += 2;
	if (ext_end > end)
		return NX_HELLO_BAD;
	end = ext_end;
	while (i < end) {
		NEED(4);
		unsigned type = (unsigned)hs[i] << 8 | hs[i + 1];
		size_t len = (size_t)hs[i + 2] << 8 | hs[i + 3];
		i += 4;
		NEED(len);
		if (type == 0) {
			/* server_name: list(2) { type(1)=0 len(2) name }, one name
			 * in one extension, as OpenSSL takes it: with two, the
			 * proxy would judge one and a server might serve the other */
			size_t j = i, lend = i + len, l;
			if (sni[0] || len < 2 || j + 2 + ((size_t)hs[j] << 8 | hs[j + 1]) != lend)
				return NX_HELLO_BAD;
			j += 2;
			if (j + 3 > lend || hs[j] != 0)
				return NX_HELLO_BAD;
			l = (size_t)hs[j + 1] << 8 | hs[j + 2];
			j += 3;
			if (l == 0 || l >= NX_HOST_MAX || j + l != lend)
				return NX_HELLO_BAD;
			for (size_t k = 0; k < l; k++) {
				uint8_t ch = hs[j + k];
				if (ch <= 0x20 || ch >= 0x7f)
					return NX_HELLO_BAD;
				sni[k] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
			}
			sni[l] = '\0';
		}
		i += len;
	}
#undef NEED
	return NX_HELLO_OK;
}
