/* SPDX-License-Identifier: MIT */
/*
 * HTTP/1.x heads, parsed strictly.  A proxy that reads a message differently
 * from the server behind it can be made to smuggle a second request past its
 * checks, so every ambiguity is refused rather than resolved: bare LF line
 * ends, obs-fold continuation lines, whitespace before a colon, Content-Length
 * together with Transfer-Encoding, Content-Length twice, any transfer coding
 * but a lone "chunked", control characters anywhere.
 *
 * Written by hand: the heads are small, the rules above are the point, and
 * no parser in Debian refuses all of them (picohttpparser accepts bare LF).
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "../common/macros.h"
#include "netproxy_internal.h"

static bool is_tchar(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool ieq(const char *a, size_t alen, const char *b)
{
	return alen == strlen(b) && strncasecmp(a, b, alen) == 0;
}

/* Finds the end of the head (CRLFCRLF); refuses a bare LF anywhere before it. */
static enum nx_parse find_head(const char *buf, size_t len, size_t max, size_t *ret,
			       const char **why)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r')) {
			*why = "bare LF in the message head";
			return NX_PARSE_ERROR;
		}
		if (buf[i] == '\r' && i + 1 < len && buf[i + 1] != '\n') {
			*why = "bare CR in the message head";
			return NX_PARSE_ERROR;
		}
		if (i >= 3 && buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' &&
		    buf[i - 3] == '\r') {
			*ret = i + 1;
			return NX_PARSE_OK;
		}
		if (i + 1 >= max) {
			*why = "message head too large";
			return NX_PARSE_ERROR;
		}
	}
	return NX_PARSE_MORE;
}

static bool parse_u64(const char *s, size_t n, uint64_t *ret)
{
	uint64_t v = 0;

	if (n == 0 || n > 18)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*ret = v;
	return true;
}

/* True when the comma-separated list VALUE holds TOKEN (case-insensitive). */
static bool list_has(const char *v, size_t n, const char *token)
{
	size_t i = 0;

	while (i < n) {
		size_t s, e;
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e > s && ieq(v + s, e - s, token))
			return true;
	}
	return false;
}

/*
 * Whether the header name N (LEN bytes) is another spelling of one the
 * proxy reads, its '-' written as another non-alphanumeric byte
 * (Content_Length, Transfer.Encoding): the proxy does not read it, but a
 * server that reads '_' as '-' (as CGI, PHP, WSGI do) frames the message
 * by it, and the two disagree on where a request ends (an outside review:
 * a GET with Content_Length had the next request's head, its real secret
 * in it, taken as its body, and a refused path served).  Refused, not
 * passed on.
 */
static bool ambiguous_name(const char *n, size_t len)
{
	/* arrays: supervisor.h's sc_entry says why */
	static const char proxy_reads[][28] = {"content-length",
					       "transfer-encoding",
					       "content-encoding",
					       "accept-encoding",
					       "if-range",
					       "keep-alive",
					       "proxy-connection",
					       "proxy-authorization",
					       "proxy-authenticate",
					       "sec-websocket-key",
					       "sec-websocket-extensions",
					       "sec-websocket-accept",
					       "sec-websocket-version"};
	bool odd = false;

	for (size_t i = 0; i < len && !odd; i++)
		odd = !isalnum((unsigned char)n[i]) && n[i] != '-';
	for (size_t k = 0; odd && k < sizeof(proxy_reads) / sizeof(proxy_reads[0]); k++) {
		size_t i = 0;
		while (i < len && proxy_reads[k][i] &&
		       (isalnum((unsigned char)n[i]) ? tolower((unsigned char)n[i]) : '-') ==
			   proxy_reads[k][i])
			i++;
		if (i == len && !proxy_reads[k][i])
			return true;
	}
	return false;
}

/* Header lines from P (just after the start line) to the blank line. */
static enum nx_parse parse_headers(const char *p, const char *end, struct nx_header *hs,
				   size_t *n_hs, const char **why)
{
	*n_hs = 0;
	while (p < end) {
		const char *eol = memchr(p, '\r', (size_t)(end - p));
		const char *colon;
		const char *v, *ve;
		if (!eol)
			break;
		if (eol == p)
			return NX_PARSE_OK; /* the blank line */
		if (*p == ' ' || *p == '\t') {
			*why = "obsolete line folding in a header";
			return NX_PARSE_ERROR;
		}
		colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon || colon == p) {
			*why = "malformed header line";
			return NX_PARSE_ERROR;
		}
		for (const char *q = p; q < colon; q++)
			if (!is_tchar((unsigned char)*q)) {
				*why = *q == ' ' || *q == '\t'
					   ? "whitespace before a header's colon"
					   : "invalid character in a header name";
				return NX_PARSE_ERROR;
			}
		if (ambiguous_name(p, (size_t)(colon - p))) {
			*why = "a header name servers may read as one that frames the message "
			       "(Content_Length)";
			return NX_PARSE_ERROR;
		}
		v = colon + 1;
		while (v < eol && (*v == ' ' || *v == '\t'))
			v++;
		ve = eol;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		for (const char *q = v; q < ve; q++) {
			unsigned char c = (unsigned char)*q;
			if ((c < 0x20 && c != '\t') || c == 0x7f) {
				*why = "control character in a header value";
				return NX_PARSE_ERROR;
			}
		}
		if (*n_hs == NX_MAX_HEADERS) {
			*why = "too many header lines";
			return NX_PARSE_ERROR;
		}
		hs[*n_hs] = (struct nx_header){p, v, (size_t)(colon - p), (size_t)(ve - v)};
		(*n_hs)++;
		p = eol + 2;
	}
	*why = "malformed head";
	return NX_PARSE_ERROR;
}

/* Content-Length and Transfer-Encoding, the two that frame a body. */
static enum nx_parse framing(const struct nx_header *hs, size_t n, enum nx_body *body,
			     uint64_t *length, const char **why)
{
	bool cl = false, te = false;

	*body = NX_BODY_NONE;
	*length = 0;
	for (size_t i = 0; i < n; i++) {
		const struct nx_header *h = &hs[i];
		if (ieq(h->name, h->name_len, "content-length")) {
			if (cl) {
				*why = "Content-Length given twice";
				return NX_PARSE_ERROR;
			}
			cl = true;
			if (!parse_u64(h->value, h->value_len, length)) {
				*why = "Content-Length is not a number";
				return NX_PARSE_ERROR;
			}
		} else if (ieq(h->name, h->name_len, "transfer-encoding")) {
			if (te) {
				*why = "Transfer-Encoding given twice";
				return NX_PARSE_ERROR;
			}
			te = true;
			if (!ieq(h->value, h->value_len, "chunked")) {
				*why = "only Transfer-Encoding: chunked is supported";
				return NX_PARSE_ERROR;
			}
		}
	}
	if (cl && te) {
		*why = "both Content-Length and Transfer-Encoding";
		return NX_PARSE_ERROR;
	}
	if (te)
		*body = NX_BODY_CHUNKED;
	else if (cl)
		*body = *length ? NX_BODY_LENGTH : NX_BODY_NONE;
	return NX_PARSE_OK;
}

static const struct nx_header *find(const struct nx_header *hs, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (ieq(hs[i].name, hs[i].name_len, name))
			return &hs[i];
	return NULL;
}

/*
 * Only a WebSocket upgrade is passed on (one Upgrade header, naming
 * websocket alone).  After a 101 the stream is no longer read: an upgrade
 * to h2c would carry HTTP/2 requests whose :authority names any host past
 * every Host check (fronting, and the smuggling of requests a CDN edge
 * routes by authority).  Other upgrades are dropped as hop-by-hop headers
 * and the request goes on as plain HTTP/1.1.
 */
static bool upgrade_is_websocket(const struct nx_header *hs, size_t n)
{
	const struct nx_header *u = NULL;

	for (size_t i = 0; i < n; i++)
		if (ieq(hs[i].name, hs[i].name_len, "upgrade")) {
			if (u)
				return false;
			u = &hs[i];
		}
	return u && ieq(u->value, u->value_len, "websocket");
}

/* "host[:port]" or "[v6][:port]"; DEFPORT when none (0: a port is required). */
static bool split_authority(const char *a, size_t n, struct nx_request *r, uint16_t defport,
			    const char **why)
{
	const char *host = a, *port = NULL;
	size_t hlen = n;

	if (n > 0 && a[0] == '[') {
		const char *rb = memchr(a, ']', n);
		if (!rb) {
			*why = "unterminated IPv6 address";
			return false;
		}
		host = a + 1;
		hlen = (size_t)(rb - host);
		if (rb + 1 < a + n) {
			if (rb[1] != ':') {
				*why = "junk after an IPv6 address";
				return false;
			}
			port = rb + 2;
		}
	} else {
		const char *colon = memchr(a, ':', n);
		if (colon) {
			hlen = (size_t)(colon - a);
			port = colon + 1;
		}
	}
	if (memchr(a, '@', n)) {
		*why = "user information in the target is refused";
		return false;
	}
	if (port) {
		uint64_t v;
		if (!parse_u64(port, (size_t)(a + n - port), &v) || v == 0 || v > 65535) {
			*why = "invalid port";
			return false;
		}
		r->port = (uint16_t)v;
	} else if (defport) {
		r->port = defport;
	} else {
		*why = "CONNECT needs host:port";
		return false;
	}
	if (a[0] != '[' && memchr(host, ':', hlen)) {
		*why = "IPv6 addresses must be in brackets";
		return false;
	}
	r->host_kind = nx_host_normalize(host, hlen, r->host, r->addr, why);
	if (a[0] == '[' && r->host_kind != NX_HOST_V6) {
		*why = "not an IPv6 address in brackets";
		return false;
	}
	return r->host_kind != NX_HOST_INVALID;
}

/* The target and Host of a request inside a stream to one origin. */
static enum nx_parse origin_request(struct nx_request *r, const char *target, size_t tlen,
				    uint16_t defport, int *status, const char **why)
{
	const struct nx_header *host = NULL;

	for (size_t i = 0; i < r->n_headers; i++)
		if (ieq(r->headers[i].name, r->headers[i].name_len, "host")) {
			if (host) {
				*why = "Host twice";
				return NX_PARSE_ERROR;
			}
			host = &r->headers[i];
		}
	if (ieq(r->method, r->method_len, "CONNECT")) {
		*why = "CONNECT inside a tunnel";
		return NX_PARSE_ERROR;
	}
	if (!host || host->value_len == 0) {
		*why = "no Host header";
		return NX_PARSE_ERROR;
	}
	if (!split_authority(host->value, host->value_len, r, defport, why))
		return NX_PARSE_ERROR;
	if (target[0] == '*' && tlen == 1 && ieq(r->method, r->method_len, "OPTIONS")) {
		r->path = target;
		r->path_len = 1;
	} else if (target[0] == '/') {
		if (memchr(target, '#', tlen)) {
			*why = "fragment in the request target";
			return NX_PARSE_ERROR;
		}
		r->path = target;
		r->path_len = tlen;
	} else {
		*why = "inside a tunnel the request target is a path";
		return NX_PARSE_ERROR;
	}
	if (ieq(r->method, r->method_len, "TRACE")) {
		*why = "TRACE is not forwarded";
		*status = 405;
		return NX_PARSE_ERROR;
	}
	return NX_PARSE_OK;
}

/* DEFPORT 0: a proxy's request (absolute URI or CONNECT); else a request
 * inside a stream to one origin (origin-form, Host names it, DEFPORT when
 * Host has no port).
 * Long: a strict parser is a sequence of checks over one buffer, kept
 * whole so that their order reads top to bottom.
 */
static enum nx_parse parse_request(const char *buf, size_t len, uint16_t defport,
				   struct nx_request *r, int *status, const char **why)
{
	size_t head_len = 0;
	enum nx_parse pr;
	const char *p, *sp1, *sp2, *eol, *end;

	/* everything but the (large) header table, which is filled as read */
	memset(r, 0, offsetof(struct nx_request, headers));
	r->n_headers = 0;
	r->body = NX_BODY_NONE;
	r->length = 0;
	r->keep_alive = r->upgrade = false;
	r->head_len = 0;
	*status = 400;
	pr = find_head(buf, len, NX_HEAD_MAX, &head_len, why);
	if (pr == NX_PARSE_MORE && len >= NX_HEAD_MAX) {
		*why = "request head too large";
		pr = NX_PARSE_ERROR;
	}
	if (pr != NX_PARSE_OK) {
		if (pr == NX_PARSE_ERROR && strstr(*why, "too large"))
			*status = 431;
		return pr;
	}
	r->head_len = head_len;
	end = buf + head_len;
	eol = memchr(buf, '\r', head_len);
	p = buf;
	sp1 = memchr(p, ' ', (size_t)(eol - p));
	if (!sp1 || sp1 == p) {
		*why = "malformed request line";
		return NX_PARSE_ERROR;
	}
	for (const char *q = p; q < sp1; q++)
		if (!is_tchar((unsigned char)*q)) {
			*why = "invalid method";
			return NX_PARSE_ERROR;
		}
	r->method = p;
	r->method_len = (size_t)(sp1 - p);
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1) {
		*why = "malformed request line";
		return NX_PARSE_ERROR;
	}
	for (const char *q = sp1 + 1; q < sp2; q++)
		if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f) {
			*why = "invalid character in the request target";
			return NX_PARSE_ERROR;
		}
	if (eol - sp2 - 1 != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    (sp2[8] != '0' && sp2[8] != '1')) {
		*why = "only HTTP/1.0 and HTTP/1.1 are spoken here";
		*status = 505;
		return NX_PARSE_ERROR;
	}
	r->minor = sp2[8] - '0';
	pr = parse_headers(eol + 2, end, r->headers, &r->n_headers, why);
	if (pr != NX_PARSE_OK)
		return pr;
	pr = framing(r->headers, r->n_headers, &r->body, &r->length, why);
	if (pr != NX_PARSE_OK)
		return pr;

	const char *target = sp1 + 1;
	size_t tlen = (size_t)(sp2 - target);
	const struct nx_header *conn = find(r->headers, r->n_headers, "connection");
	const struct nx_header *pconn = find(r->headers, r->n_headers, "proxy-connection");

	r->keep_alive = r->minor == 1;
	if (conn && list_has(conn->value, conn->value_len, "close"))
		r->keep_alive = false;
	if (conn && list_has(conn->value, conn->value_len, "keep-alive"))
		r->keep_alive = true;
	if (pconn && list_has(pconn->value, pconn->value_len, "close"))
		r->keep_alive = false;
	if (conn && list_has(conn->value, conn->value_len, "upgrade"))
		r->upgrade = upgrade_is_websocket(r->headers, r->n_headers);

	if (defport)
		return origin_request(r, target, tlen, defport, status, why);
	if (ieq(r->method, r->method_len, "CONNECT")) {
		r->is_connect = true;
		if (r->body != NX_BODY_NONE) {
			*why = "CONNECT with a body";
			return NX_PARSE_ERROR;
		}
		if (!split_authority(target, tlen, r, 0, why))
			return NX_PARSE_ERROR;
		return NX_PARSE_OK;
	}
	/* a forward proxy takes absolute URIs only; https goes through CONNECT */
	if (tlen >= 8 && strncasecmp(target, "https://", 8) == 0) {
		*why = "https:// URLs go through CONNECT (set HTTPS_PROXY)";
		return NX_PARSE_ERROR;
	}
	if (tlen < 7 || strncasecmp(target, "http://", 7) != 0) {
		*why = target[0] == '/' ? "this is a proxy: send an absolute http:// URL"
					: "unsupported request target";
		return NX_PARSE_ERROR;
	}
	const char *auth = target + 7;
	const char *aend = auth;
	while (aend < target + tlen && *aend != '/' && *aend != '?' && *aend != '#')
		aend++;
	if (aend == auth) {
		*why = "no host in the URL";
		return NX_PARSE_ERROR;
	}
	if (!split_authority(auth, (size_t)(aend - auth), r, 80, why))
		return NX_PARSE_ERROR;
	if (memchr(aend, '#', (size_t)(target + tlen - aend))) {
		*why = "fragment in the request target";
		return NX_PARSE_ERROR;
	}
	r->path = aend;
	r->path_len = (size_t)(target + tlen - aend);
	r->path_is_root_default = r->path_len == 0 || *aend == '?';
	if (ieq(r->method, r->method_len, "TRACE")) {
		*why = "TRACE is not forwarded";
		*status = 405;
		return NX_PARSE_ERROR;
	}
	return NX_PARSE_OK;
}

enum nx_parse nx_parse_request(const char *buf, size_t len, struct nx_request *r, int *status,
			       const char **why)
{
	return parse_request(buf, len, 0, r, status, why);
}

enum nx_parse nx_parse_origin_request(const char *buf, size_t len, uint16_t defport,
				      struct nx_request *r, int *status, const char **why)
{
	return parse_request(buf, len, defport ? defport : 80, r, status, why);
}

enum nx_parse nx_parse_response(const char *buf, size_t len, bool is_head, struct nx_response *r,
				const char **why)
{
	size_t head_len = 0;
	enum nx_parse pr;
	const char *eol;

	r->n_headers = 0;
	pr = find_head(buf, len, NX_RESP_HEAD_MAX, &head_len, why);
	if (pr == NX_PARSE_MORE && len >= NX_RESP_HEAD_MAX) {
		*why = "response head too large";
		return NX_PARSE_ERROR;
	}
	if (pr != NX_PARSE_OK)
		return pr;
	r->head_len = head_len;
	eol = memchr(buf, '\r', head_len);
	if (eol - buf < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || (buf[7] != '0' && buf[7] != '1') ||
	    buf[8] != ' ' || !isdigit((unsigned char)buf[9]) || !isdigit((unsigned char)buf[10]) ||
	    !isdigit((unsigned char)buf[11]) || (eol - buf > 12 && buf[12] != ' ')) {
		*why = "malformed status line from upstream";
		return NX_PARSE_ERROR;
	}
	r->minor = buf[7] - '0';
	r->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	if (r->status < 100) {
		*why = "malformed status line from upstream";
		return NX_PARSE_ERROR;
	}
	pr = parse_headers(eol + 2, buf + head_len, r->headers, &r->n_headers, why);
	if (pr != NX_PARSE_OK)
		return pr;
	pr = framing(r->headers, r->n_headers, &r->body, &r->length, why);
	if (pr != NX_PARSE_OK)
		return pr;
	const struct nx_header *conn = find(r->headers, r->n_headers, "connection");
	r->close = r->minor == 0 ? !(conn && list_has(conn->value, conn->value_len, "keep-alive"))
				 : (conn && list_has(conn->value, conn->value_len, "close"));
	if (is_head || r->status < 200 || r->status == 204 || r->status == 304) {
		r->body = NX_BODY_NONE;
		r->length = 0;
	} else if (r->body == NX_BODY_NONE && !find(r->headers, r->n_headers, "content-length")) {
		r->body = NX_BODY_CLOSE;
		r->close = true;
	}
	return NX_PARSE_OK;
}

bool nx_header_is_hop(const struct nx_request *r, const struct nx_header *h)
{
	/* arrays: supervisor/supervisor.h's sc_entry says why */
	STRING_TABLE_BEGIN
	static const char hop[][24] = {
	    "connection",	   "keep-alive", "proxy-connection", "proxy-authenticate",
	    "proxy-authorization", "te",	 "trailer"};
	STRING_TABLE_END
	const struct nx_header *conn;

	for (size_t i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		if (ieq(h->name, h->name_len, hop[i]))
			return true;
	if (ieq(h->name, h->name_len, "upgrade"))
		return !r->upgrade;
	/* the request's Host is rewritten from the URL */
	if (ieq(h->name, h->name_len, "host"))
		return true;
	/* headers the Connection header names are for this hop only */
	conn = find(r->headers, r->n_headers, "connection");
	if (conn) {
		char name[64];
		if (h->name_len < sizeof(name)) {
			memcpy(name, h->name, h->name_len);
			name[h->name_len] = '\0';
			if (!ieq(name, h->name_len, "transfer-encoding") &&
			    !ieq(name, h->name_len, "content-length") &&
			    list_has(conn->value, conn->value_len, name))
				return true;
		}
	}
	return false;
}

enum {
	CH_SIZE = 0, /* hex digits */
	CH_EXT,	     /* ;extension up to CR */
	CH_SIZE_LF,
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	CH_TRAILER_START, /* after the last chunk: CR (end) or a trailer line */
	CH_TRAILER_LINE,
	CH_TRAILER_LF,
	CH_END_LF,
	CH_DONE,
};

/* Long: one state machine over the chunked grammar, a case per state. */
long nx_chunk_feed(struct nx_chunk *c, const char *p, size_t n, bool *done)
{
	size_t i = 0;

	*done = c->state == CH_DONE;
	while (i < n && c->state != CH_DONE) {
		char ch = p[i];
		switch (c->state) {
		case CH_SIZE:
			if (hex_value(ch) >= 0) {
				if (++c->digits > 15)
					return -1;
				c->left = c->left * 16 + (uint64_t)hex_value(ch);
			} else if (c->digits && ch == ';') {
				c->state = CH_EXT;
			} else if (c->digits && ch == '\r') {
				c->state = CH_SIZE_LF;
			} else {
				return -1;
			}
			i++;
			break;
		case CH_EXT:
			if (ch == '\r')
				c->state = CH_SIZE_LF;
			else if ((unsigned char)ch < 0x20 && ch != '\t')
				return -1;
			if (++c->line > 4096)
				return -1;
			i++;
			break;
		case CH_SIZE_LF:
			if (ch != '\n')
				return -1;
			i++;
			c->digits = 0;
			c->line = 0;
			c->state = c->left ? CH_DATA : CH_TRAILER_START;
			break;
		case CH_DATA: {
			size_t take = n - i < c->left ? n - i : (size_t)c->left;
			i += take;
			c->left -= take;
			if (c->left == 0)
				c->state = CH_DATA_CR;
			break;
		}
		case CH_DATA_CR:
			if (ch != '\r')
				return -1;
			c->state = CH_DATA_LF;
			i++;
			break;
		case CH_DATA_LF:
			if (ch != '\n')
				return -1;
			c->state = CH_SIZE;
			i++;
			break;
		case CH_TRAILER_START:
			if (ch == '\r') {
				c->state = CH_END_LF;
			} else if (ch == ' ' || ch == '\t' || ch == '\n') {
				return -1;
			} else {
				c->state = CH_TRAILER_LINE;
				c->line = 1;
			}
			i++;
			break;
		case CH_TRAILER_LINE:
			if (ch == '\r')
				c->state = CH_TRAILER_LF;
			else if (ch == '\n' || ++c->line > 8192)
				return -1;
			i++;
			break;
		case CH_TRAILER_LF:
			if (ch != '\n')
				return -1;
			c->state = CH_TRAILER_START;
			i++;
			break;
		case CH_END_LF:
			if (ch != '\n')
				return -1;
			c->state = CH_DONE;
			i++;
			break;
		default:
			return -1;
		}
	}
	*done = c->state == CH_DONE;
	return (long)i;
}

/* The bytes of chunk data that come next, before any framing: what a
 * reader that does not look at them may pass on unread (spliced). */
uint64_t nx_chunk_data_left(const struct nx_chunk *c)
{
	return c->state == CH_DATA ? c->left : 0;
}

/* N of those bytes passed on unread (N at most nx_chunk_data_left()). */
void nx_chunk_skip(struct nx_chunk *c, uint64_t n)
{
	if (c->state != CH_DATA || n > c->left)
		return;
	c->left -= n;
	if (c->left == 0)
		c->state = CH_DATA_CR;
}
