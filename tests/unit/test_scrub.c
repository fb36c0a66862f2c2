/* SPDX-License-Identifier: MIT */
/* Secrets in responses (scrub.c) and the proxy's memory budget (budget.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../netproxy/netproxy_internal.h"

#define PH	"ringfence_github_AAAAAAAAAAAAAAAAAAAAAAAA"
#define SECRET	"ghp_realSecretValue0123456789abcdef"
#define PH2	"ringfence_other_BBBBBBBBBBBBBBBBBBBBBBBB"
#define SECRET2 "sk/other+secret=with%percent"

static struct policy_item items[] = {{.value = "good.test"}};
static struct policy_list hosts = {items, 1, 1};
static const struct nx_cred creds[] = {
    {"github", PH, sizeof(PH) - 1, SECRET, sizeof(SECRET) - 1, &hosts, false, POLICY_INJECT_REPLACE,
     NULL, false, NULL, 0, 0},
    {"other", PH2, sizeof(PH2) - 1, SECRET2, sizeof(SECRET2) - 1, &hosts, false,
     POLICY_INJECT_REPLACE, NULL, false, NULL, 0, 0},
};

static struct nx_scrub *scrub(void)
{
	struct nx_scrub *s = NULL;

	assert_int_equal(nx_scrub_new(creds, 2, &s), 0);
	return s;
}

static char *b64(const char *in)
{
	char *out = calloc(1, strlen(in) * 2 + 8);

	nx_base64_encode(in, strlen(in), out);
	return out;
}

/* Feeds IN to a fresh scan in pieces of STEP bytes; returns the result
 * of the last feed (or of the flush) and what came out in *OUT. */
static int stream(struct nx_scrub *s, enum nx_frame f, const char *in, size_t n, size_t step,
		  char **out, size_t *out_len)
{
	struct nx_scan *sc;
	char *o = malloc(n + 4096), *tmp = malloc(n + 4096);
	size_t len = 0, got;
	int r = 0;

	assert_int_equal(nx_scan_new(s, &sc), 0);
	nx_scan_reset(sc, f);
	for (size_t i = 0; i < n && r == 0; i += step) {
		size_t k = n - i < step ? n - i : step;
		r = nx_scan_feed(sc, in + i, k, tmp, &got);
		if (r == 0) {
			memcpy(o + len, tmp, got);
			len += got;
		}
	}
	if (r == 0)
		len += nx_scan_flush(sc, o + len);
	nx_scan_free(sc);
	free(tmp);
	*out = o;
	*out_len = len;
	return r;
}

/* TEXT, scanned in pieces of STEP bytes, comes out whole and as it was. */
static void passes_whole(struct nx_scrub *s, enum nx_frame f, const char *text, size_t step)
{
	char *out;
	size_t len;

	assert_int_equal(stream(s, f, text, strlen(text), step, &out, &len), 0);
	assert_int_equal(len, strlen(text));
	assert_memory_equal(out, text, len);
	free(out);
}

static void test_head_replaced(void **state)
{
	struct nx_scrub *s = scrub();
	char *out, *basic = NULL, head[1024];
	size_t len;
	unsigned hits;
	const char *clean = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

	(void)state;
	assert_int_equal(nx_scrub_head(s, clean, strlen(clean), &out, &len, &hits), 0);
	assert_null(out);

	/* a redirect carrying the query, raw and percent-encoded (any mix) */
	snprintf(head, sizeof(head),
		 "HTTP/1.1 301 Moved\r\nLocation: "
		 "https://good.test/?t=%s&u=%%67hp_realSecretValue0123456789ABCDEF%s\r\n"
		 "Set-Cookie: a=ghp%%5frealSecretValue0123456789abcdef\r\n\r\n",
		 SECRET, "");
	assert_int_equal(nx_scrub_head(s, head, strlen(head), &out, &len, &hits), 1);
	out[len - 1] = '\0';
	assert_null(strstr(out, SECRET));
	assert_non_null(strstr(out, "?t=" PH "&u="));
	assert_non_null(strstr(out, "a=" PH "\r\n"));
	/* upper-case hex is the secret's own case: not a match (ABCDEF) */
	assert_non_null(strstr(out, "ABCDEF"));
	assert_int_equal(hits, 1);
	free(out);

	/* inside Basic: user:secret, whatever the user's length */
	for (int u = 0; u < 3; u++) {
		char cred[128];
		snprintf(cred, sizeof(cred), "%.*s:%s", u + 1, "xyz", SECRET2);
		basic = b64(cred);
		snprintf(head, sizeof(head), "HTTP/1.1 401 No\r\nX-Echo: Basic %s\r\n\r\n", basic);
		assert_int_equal(nx_scrub_head(s, head, strlen(head), &out, &len, &hits), 1);
		assert_int_equal(hits, 2);
		free(out);
		free(basic);
	}
	nx_scrub_free(s);
}

static void test_stream_every_split(void **state)
{
	struct nx_scrub *s = scrub();
	char body[256];
	char *out;
	size_t len;

	(void)state;
	snprintf(body, sizeof(body), "{\"echo\": \"Bearer %s\", \"more\": 1}\n", SECRET);
	for (size_t step = 1; step <= strlen(body); step++) {
		assert_int_equal(stream(s, NX_FRAME_PLAIN, body, strlen(body), step, &out, &len),
				 -EACCES);
		/* nothing of the secret went out before the refusal */
		assert_null(memmem(out, len, "ghp_", 4));
		free(out);
	}
	/* percent-encoded, every other byte escaped */
	snprintf(body, sizeof(body), "x=%%67h%%70_realSecretValue0123456789abcdef&");
	assert_int_equal(stream(s, NX_FRAME_PLAIN, body, strlen(body), 3, &out, &len), -EACCES);
	free(out);
	/* JSON's escapes: \/ (PHP writes every slash so), \u0067 */
	snprintf(body, sizeof(body), "{\"k\": \"sk\\/other+secret=with%%percent\"}");
	assert_int_equal(stream(s, NX_FRAME_PLAIN, body, strlen(body), 2, &out, &len), -EACCES);
	free(out);
	snprintf(body, sizeof(body),
		 "{\"k\": \"\\u0067hp_realSecretValue0123456789abcde\\u0066\"}");
	assert_int_equal(stream(s, NX_FRAME_PLAIN, body, strlen(body), 1, &out, &len), -EACCES);
	free(out);
	/* near misses pass whole: a non-ASCII \u, an unknown escape */
	snprintf(body, sizeof(body), "\\u00e9 \\q ghp_realSecretValue0123456789abcde\\u00e6");
	passes_whole(s, NX_FRAME_PLAIN, body, 3);
	/* a secret holding '%' comes back as it is */
	snprintf(body, sizeof(body), "x=%s", SECRET2);
	assert_int_equal(stream(s, NX_FRAME_PLAIN, body, strlen(body), 5, &out, &len), -EACCES);
	free(out);
	/* quoted again, and again (a URL in another's ?next=): %2567, %252567 */
	for (size_t step = 1; step <= 7; step += 3) {
		snprintf(
		    body, sizeof(body),
		    "next=%%252Fx%%253Fk%%253D%%2567hp%%25255Frea%%6CSecretValue0123456789abcdef");
		assert_int_equal(stream(s, NX_FRAME_PLAIN, body, strlen(body), step, &out, &len),
				 -EACCES);
		assert_null(memmem(out, len, "hp", 2));
		free(out);
	}
	/* deeper than three levels, or a %25 that begins no escape: the
	 * text as it is */
	snprintf(body, sizeof(body),
		 "%%2525252567hp_realSecretValue0123456789abcdef "
		 "%%25zz %%25%%");
	assert_int_equal(stream(s, NX_FRAME_PLAIN, body, strlen(body), 4, &out, &len), 0);
	assert_int_equal(len, strlen(body));
	free(out);
	nx_scrub_free(s);
}

static void test_stream_clean_passes_whole(void **state)
{
	struct nx_scrub *s = scrub();
	size_t n = 300000;
	char *data = malloc(n), *out;
	size_t len;

	(void)state;
	for (size_t i = 0; i < n; i++)
		data[i] = (char)(i * 7 + i / 251);
	/* near misses: the secret's prefixes, its base64 cut short */
	memcpy(data + 1000, "ghp_realSecretValue0123456789abcde!", 35);
	memcpy(data + 5000, "%67hp_realSecretValue", 21);
	for (size_t step = 1; step < 70000; step = step * 3 + 1) {
		assert_int_equal(stream(s, NX_FRAME_PLAIN, data, n, step, &out, &len), 0);
		assert_int_equal(len, n);
		assert_memory_equal(out, data, n);
		free(out);
	}
	free(data);
	nx_scrub_free(s);
}

/* What is held back, and for how long, does not depend on the bytes: a
 * prefix of the secret and any other text of its length come out alike. */
static void test_held_bytes(void **state)
{
	struct nx_scrub *s = scrub();
	const char *guess[] = {"data: ghp_real", "data: xhp_real"};
	size_t hold = nx_scrub_hold_max(s);
	char *big = malloc(hold + 100), *out = malloc(hold + 200);
	size_t got;

	(void)state;
	memset(big, 'x', hold + 100);
	for (size_t g = 0; g < 2; g++) {
		struct nx_scan *sc;
		char ws[64];
		assert_int_equal(nx_scan_new(s, &sc), 0);
		nx_scan_reset(sc, NX_FRAME_PLAIN);
		/* a plain stream: its last hold_max bytes wait for more */
		assert_int_equal(nx_scan_feed(sc, guess[g], 14, out, &got), 0);
		assert_int_equal(got, 0);
		assert_int_equal(nx_scan_held(sc), 14);
		assert_int_equal(nx_scan_feed(sc, big, hold + 100, out, &got), 0);
		assert_int_equal(got, 114);
		assert_memory_equal(out, guess[g], 14);
		assert_int_equal(nx_scan_held(sc), hold);
		assert_int_equal(nx_scan_flush(sc, out), hold);
		/* a WebSocket frame goes whole at its end, whatever it holds */
		nx_scan_reset(sc, NX_FRAME_WEBSOCKET);
		ws[0] = (char)0x81;
		ws[1] = 14;
		memcpy(ws + 2, guess[g], 14);
		assert_int_equal(nx_scan_feed(sc, ws, 16, out, &got), 0);
		assert_int_equal(got, 16);
		assert_int_equal(nx_scan_held(sc), 0);
		/* the next frame's header waits for its payload */
		assert_int_equal(nx_scan_feed(sc, ws, 2, out, &got), 0);
		assert_int_equal(got, 0);
		/* a fragment's end is no message's: held on, ping or not */
		nx_scan_reset(sc, NX_FRAME_WEBSOCKET);
		ws[0] = 0x01;
		assert_int_equal(nx_scan_feed(sc, ws, 16, out, &got), 0);
		assert_int_equal(got, 0);
		assert_int_equal(nx_scan_feed(sc, "\x89\x00", 2, out, &got), 0);
		assert_int_equal(got, 0);
		assert_int_equal(nx_scan_feed(sc, "\x80\x01!", 3, out, &got), 0);
		assert_int_equal(got, 21);
		/* a ping between messages goes at its end */
		assert_int_equal(nx_scan_feed(sc, "\x89\x02hi", 4, out, &got), 0);
		assert_int_equal(got, 4);
		/* a chunk at its end */
		nx_scan_reset(sc, NX_FRAME_CHUNKED);
		assert_int_equal(nx_scan_feed(sc, "e\r\n", 3, out, &got), 0);
		assert_int_equal(got, 0);
		assert_int_equal(nx_scan_feed(sc, guess[g], 14, out, &got), 0);
		assert_int_equal(got, 17);
		assert_int_equal(nx_scan_feed(sc, "\r\n", 2, out, &got), 0);
		assert_int_equal(got, 2);
		nx_scan_free(sc);
	}
	/* a match goes on across a framing end: the secret split by one is
	 * still cut when it completes */
	{
		struct nx_scan *sc;
		char f1[] = "\x81\x08ghp_real", f2[] = "\x81\x1bSecretValue0123456789abcdef";
		/* (two messages) */
		assert_int_equal(nx_scan_new(s, &sc), 0);
		nx_scan_reset(sc, NX_FRAME_WEBSOCKET);
		assert_int_equal(nx_scan_feed(sc, f1, 10, out, &got), 0);
		assert_int_equal(got, 10);
		assert_int_equal(nx_scan_feed(sc, f2, 29, out, &got), -EACCES);
		nx_scan_free(sc);
	}
	free(big);
	free(out);
	nx_scrub_free(s);
}

static void test_chunked(void **state)
{
	struct nx_scrub *s = scrub();
	char body[512], *out;
	size_t len;
	const char *clean = "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";

	(void)state;
	/* the secret split by chunk framing */
	snprintf(body, sizeof(body),
		 "8\r\nghp_real\r\n1b\r\nSecretValue0123456789abcdef\r\n0\r\n\r\n");
	assert_int_equal(stream(s, NX_FRAME_CHUNKED, body, strlen(body), 4, &out, &len), -EACCES);
	assert_null(memmem(out, len, "Secret", 6));
	free(out);
	/* split by a chunk extension, which the client drops and joins the
	 * data around: each piece size */
	snprintf(body, sizeof(body),
		 "8\r\nghp_real\r\n1b;e=v\r\nSecretValue0123456789abcdef\r\n0\r\n\r\n");
	for (size_t step = 1; step <= strlen(body); step++) {
		assert_int_equal(stream(s, NX_FRAME_CHUNKED, body, strlen(body), step, &out, &len),
				 -EACCES);
		assert_null(memmem(out, len, "Secret", 6));
		free(out);
	}
	/* in a chunk extension, in a trailer */
	snprintf(body, sizeof(body), "3;x=%s\r\nabc\r\n0\r\n\r\n", SECRET);
	assert_int_equal(stream(s, NX_FRAME_CHUNKED, body, strlen(body), 7, &out, &len), -EACCES);
	free(out);
	snprintf(body, sizeof(body), "3\r\nabc\r\n0\r\nX-Echo: %s\r\n\r\n", SECRET);
	assert_int_equal(stream(s, NX_FRAME_CHUNKED, body, strlen(body), 7, &out, &len), -EACCES);
	free(out);
	passes_whole(s, NX_FRAME_CHUNKED, clean, 1);
	nx_scrub_free(s);
}

static void test_websocket(void **state)
{
	struct nx_scrub *s = scrub();
	unsigned char f[512];
	char *out;
	size_t n = 0, len;
	const char *a = "ghp_realSecret", *b = "Value0123456789abcdef";

	(void)state;
	/* a text message in two fragments, a ping with its own payload between */
	f[n++] = 0x01;
	f[n++] = (unsigned char)strlen(a);
	memcpy(f + n, a, strlen(a));
	n += strlen(a);
	f[n++] = 0x89;
	f[n++] = 3;
	memcpy(f + n, "png", 3);
	n += 3;
	f[n++] = 0x80;
	f[n++] = 0x80 | (unsigned char)strlen(b); /* masked, as a server should not */
	memcpy(f + n, "\x11\x22\x33\x44", 4);
	n += 4;
	for (size_t i = 0; i < strlen(b); i++)
		f[n + i] = (unsigned char)(b[i] ^ "\x11\x22\x33\x44"[i & 3]);
	n += strlen(b);
	for (size_t step = 1; step < n; step += 5) {
		assert_int_equal(stream(s, NX_FRAME_WEBSOCKET, (char *)f, n, step, &out, &len),
				 -EACCES);
		free(out);
	}
	/* a 16-bit length, clean */
	n = 0;
	f[n++] = 0x82;
	f[n++] = 126;
	f[n++] = 0;
	f[n++] = 200;
	memset(f + n, 'g', 200);
	n += 200;
	assert_int_equal(stream(s, NX_FRAME_WEBSOCKET, (char *)f, n, 9, &out, &len), 0);
	assert_int_equal(len, n);
	free(out);
	/* compressed (RSV1): cannot be read */
	f[0] = 0xc1;
	f[1] = 1;
	assert_int_equal(stream(s, NX_FRAME_WEBSOCKET, (char *)f, 3, 3, &out, &len), -EPROTO);
	free(out);
	nx_scrub_free(s);
}

static void test_base64_any_alignment(void **state)
{
	struct nx_scrub *s = scrub();
	char in[128], *enc, *out;
	size_t len;

	(void)state;
	for (int pre = 0; pre < 6; pre++)
		for (int url = 0; url < 2; url++) {
			snprintf(in, sizeof(in), "%.*s%s!", pre, "abcdef", SECRET);
			enc = b64(in);
			if (url)
				for (char *p = enc; *p; p++)
					*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
			assert_int_equal(stream(s, NX_FRAME_PLAIN, enc, strlen(enc), 2, &out, &len),
					 -EACCES);
			free(out);
			free(enc);
		}
	nx_scrub_free(s);
}

/* inject = basic:USER and basic-user: a secret too short for a base64 core
 * of 12 characters is still found in the exact Basic value the proxy
 * writes, also url-safe and without its padding; another user's or
 * another password's is not. */
static void test_basic_short_secret(void **state)
{
	static const struct nx_cred basic[] = {
	    {"pw", PH, sizeof(PH) - 1, "hunter22", 8, &hosts, false, POLICY_INJECT_BASIC_PASSWORD,
	     "apiuser", false, NULL, 0, 0},
	    {"user", PH2, sizeof(PH2) - 1, "kz9!", 4, &hosts, false, POLICY_INJECT_BASIC_USER, NULL,
	     false, NULL, 0, 0},
	};
	static const struct {
		const char *body;
		int want;
	} cases[] = {
	    /* apiuser:hunter22 */
	    {"Authorization: Basic YXBpdXNlcjpodW50ZXIyMg==\n", -EACCES},
	    {"{\"auth\":\"YXBpdXNlcjpodW50ZXIyMg\"}", -EACCES}, /* no padding */
	    {"Authorization: Basic a3o5ITo=\n", -EACCES},	/* kz9!: */
	    {"Authorization: Basic b3RoZXI6aHVudGVyMjI=\n", 0}, /* other:hunter22 */
	    /* apiuser:hunter21 */
	    {"Authorization: Basic YXBpdXNlcjpodW50ZXIyMQ==\n", 0},
	    {"Authorization: Basic a3o5Pzo=\n", 0}, /* kz9?: */
	};
	struct nx_scrub *s = NULL;
	char *out;
	size_t len;

	(void)state;
	assert_int_equal(nx_scrub_new(basic, 2, &s), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (size_t step = 1; step <= 7; step += 6) {
			const char *b = cases[i].body;
			assert_int_equal(stream(s, NX_FRAME_PLAIN, b, strlen(b), step, &out, &len),
					 cases[i].want);
			if (cases[i].want == 0)
				assert_memory_equal(out, b, strlen(b));
			free(out);
		}
	nx_scrub_free(s);
}

/* inject = replace inside a Basic value the client wrote: the value the
 * proxy re-encoded is looked for by a scrub made from the proxy's with it
 * (nx_scrub_with), which keeps every needle of the one it was made from. */
static void test_scrub_with_a_basic_value(void **state)
{
	static const struct nx_cred rep[] = {
	    {"short", PH, sizeof(PH) - 1, "hunter22", 8, &hosts, false, POLICY_INJECT_REPLACE, NULL,
	     false, NULL, 0, 0},
	    {"other", PH2, sizeof(PH2) - 1, SECRET2, sizeof(SECRET2) - 1, &hosts, false,
	     POLICY_INJECT_REPLACE, NULL, false, NULL, 0, 0},
	};
	const char *echo = "Authorization: Basic YXBpdXNlcjpodW50ZXIyMg==\n"; /* apiuser:hunter22 */
	const char *other = "Authorization: Basic YXBpdXNlcjpodW50ZXIyMQ==\n"; /* ...hunter21 */
	const struct nx_scrub_extra extra = {"YXBpdXNlcjpodW50ZXIyMg==", 24, 0};
	struct nx_scrub *base = NULL, *s = NULL;
	struct nx_scan *sc;
	char *out, *enc = b64(SECRET2);
	size_t len;

	(void)state;
	assert_int_equal(nx_scrub_new(rep, 2, &base), 0);
	/* the control: too short for a core of its own, the base misses it */
	assert_int_equal(stream(base, NX_FRAME_PLAIN, echo, strlen(echo), 3, &out, &len), 0);
	free(out);
	assert_int_equal(nx_scrub_with(base, &extra, 1, &s), 0);
	assert_int_equal(stream(s, NX_FRAME_PLAIN, echo, strlen(echo), 3, &out, &len), -EACCES);
	free(out);
	assert_int_equal(nx_scan_new(s, &sc), 0);
	nx_scan_reset(sc, NX_FRAME_PLAIN);
	out = malloc(strlen(echo) + 64);
	assert_int_equal(nx_scan_feed(sc, echo, strlen(echo), out, &len), -EACCES);
	assert_ptr_equal(nx_scan_hit(sc), &rep[0]);
	nx_scan_free(sc);
	free(out);
	/* another password in the same place is not it */
	assert_int_equal(stream(s, NX_FRAME_PLAIN, other, strlen(other), 3, &out, &len), 0);
	free(out);
	/* the base's needles are all there: the other secret, as it is and
	 * in base64 */
	assert_int_equal(stream(s, NX_FRAME_PLAIN, SECRET2, strlen(SECRET2), 1, &out, &len),
			 -EACCES);
	free(out);
	assert_int_equal(stream(s, NX_FRAME_PLAIN, enc, strlen(enc), 5, &out, &len), -EACCES);
	free(out);
	free(enc);
	nx_scrub_free(s);
	nx_scrub_free(base);
}

static void test_budget(void **state)
{
	struct nx_budget b;
	int p[2], q[2], r[2];
	size_t sz, sz2, sz3;

	(void)state;
	nx_budget_init(&b, 0, 16);
	assert_int_equal(b.max, NX_BUDGET_DEFAULT);
	nx_budget_init(&b, 1 << 20, 2);
	assert_true(nx_budget_take(&b, 600 << 10));
	assert_false(nx_budget_take(&b, 600 << 10)); /* would pass the budget */
	assert_int_equal(b.used, 600 << 10);
	nx_budget_give(&b, 600 << 10);
	assert_int_equal(b.used, 0);

	/* pipes: full size while under half the budget, then the kernel's
	 * default, then one page, past the budget too */
	assert_int_equal(nx_budget_pipe_size(&b, 256 << 10), 256 << 10);
	assert_true(nx_budget_take(&b, 512 << 10));
	assert_int_equal(nx_budget_pipe_size(&b, 256 << 10), NX_PIPE_DEFAULT);
	assert_true(nx_budget_take(&b, (1 << 20) - (512 << 10) - 8192));
	assert_int_equal(nx_budget_pipe_size(&b, 256 << 10), NX_PIPE_MIN);
	/* a pipe is charged at the size the kernel gave it */
	assert_int_equal(nx_budget_pipe(&b, 256 << 10, p, &sz), 0);
	assert_int_equal(sz, NX_PIPE_MIN);
	assert_int_equal(fcntl(p[1], F_GETPIPE_SZ), NX_PIPE_MIN);
	assert_int_equal(b.pipes, 1);
	assert_int_equal(nx_budget_pipe(&b, 256 << 10, q, &sz2), 0);
	assert_int_equal(b.used, 1 << 20);
	/* the number of pipes is bounded whatever their size */
	assert_int_equal(nx_budget_pipe(&b, 256 << 10, r, &sz3), -ENOBUFS);
	assert_true(b.waiting); /* the one thing that waits: tried again later */
	b.waiting = false;
	nx_budget_pipe_close(&b, p, sz);
	assert_int_equal(p[0], -1);
	assert_int_equal(b.pipes, 1);
	assert_int_equal(b.used, (1 << 20) - NX_PIPE_MIN);
	/* past the budget: a one-page pipe, counted */
	assert_true(nx_budget_take(&b, NX_PIPE_MIN));
	assert_false(nx_budget_take(&b, 1));
	assert_false(b.waiting); /* buffers and pipes never wait: they shrink */
	assert_int_equal(nx_budget_pipe(&b, 256 << 10, r, &sz3), 0);
	assert_int_equal(sz3, NX_PIPE_MIN);
	assert_int_equal(b.used, (1 << 20) + NX_PIPE_MIN);
	/* past the budget, nothing fits, not even what would have before */
	assert_false(nx_budget_take(&b, 1));
	nx_budget_pipe_close(&b, q, sz2);
	nx_budget_pipe_close(&b, r, sz3);
	assert_int_equal(b.pipes, 0);
	assert_int_equal(b.used, (1 << 20) - NX_PIPE_MIN);
}

/* A secret fetched again: the old one is still looked for beside the new,
 * and a scan made before the refresh keeps its needles after the owner
 * let them go. */
static void test_previous_secret_and_scan_lifetime(void **state)
{
	(void)state;
	const struct nx_old prev = {0, "old-secret-value-0001", 21};
	struct nx_scrub *s = NULL, *old = scrub();
	struct nx_scan *sc = NULL;
	char out[256], *o = NULL;
	size_t n;

	assert_int_equal(nx_scrub_new_olds(creds, 2, &prev, 1, &s), 0);
	assert_int_equal(stream(s, NX_FRAME_PLAIN, "x old-secret-value-0001 y", 25, 3, &o, &n),
			 -EACCES);
	free(o);
	assert_int_equal(stream(s, NX_FRAME_PLAIN, "x " SECRET " y", sizeof(SECRET) + 3, 5, &o, &n),
			 -EACCES);
	free(o);
	assert_int_equal(stream(old, NX_FRAME_PLAIN, "x old-secret-value-0001 y", 25, 3, &o, &n),
			 0);
	free(o);
	assert_int_equal(nx_scan_new(old, &sc), 0);
	assert_ptr_equal(nx_scan_scrub(sc), old);
	nx_scrub_free(old); /* the owner's reference: the scan holds its own */
	nx_scan_reset(sc, NX_FRAME_PLAIN);
	assert_int_equal(nx_scan_feed(sc, "a " SECRET, sizeof(SECRET) + 1, out, &n), -EACCES);
	nx_scan_free(sc);
	nx_scrub_free(s);
}

/* A scan under way when the secrets are fetched again goes on with the new
 * needles: the new secret is seen from then on, and a partial match of the
 * previous one (which the new needles hold too) completes across it. */
/* The needles of creds with OLD as the first one's secret (BEFORE), and
 * after a refresh to creds' own, OLD the previous secret (AFTER). */
static void refreshed(const char *old, struct nx_scrub **before, struct nx_scrub **after)
{
	static struct nx_cred moved[2];
	const struct nx_old prev = {0, old, strlen(old)};

	memcpy(moved, creds, sizeof(moved));
	moved[0].secret = old;
	moved[0].secret_len = strlen(old);
	assert_int_equal(nx_scrub_new(moved, 2, before), 0);
	assert_int_equal(nx_scrub_new_olds(creds, 2, &prev, 1, after), 0);
}

static void test_scan_rebased_at_a_refresh(void **state)
{
	struct nx_scrub *before = NULL, *after = NULL;
	struct nx_scan *sc = NULL;
	char out[4096];
	size_t n;

	(void)state;
	refreshed("old-secret-value-0001", &before, &after);
	/* the new secret passes a scan made before it */
	assert_int_equal(nx_scan_new(before, &sc), 0);
	nx_scan_reset(sc, NX_FRAME_CHUNKED);
	assert_int_equal(nx_scan_feed(sc, "23\r\n" SECRET "\r\n", sizeof(SECRET) + 6, out, &n), 0);
	nx_scan_free(sc);
	/* rebased: the old secret's start held, its end after the refresh */
	assert_int_equal(nx_scan_new(before, &sc), 0);
	nx_scan_reset(sc, NX_FRAME_CHUNKED);
	assert_int_equal(nx_scan_feed(sc, "15\r\nold-secret", 14, out, &n), 0);
	assert_int_equal(nx_scan_rebase(sc, after), 0);
	assert_ptr_equal(nx_scan_scrub(sc), after);
	assert_int_equal(nx_scan_held(sc), 14);
	assert_int_equal(nx_scan_feed(sc, "-value-0001\r\n", 13, out, &n), -EACCES);
	nx_scan_free(sc);
	/* rebased: the new secret is cut */
	assert_int_equal(nx_scan_new(before, &sc), 0);
	nx_scan_reset(sc, NX_FRAME_CHUNKED);
	assert_int_equal(nx_scan_feed(sc, "8\r\nwaiting\n\r\n", 13, out, &n), 0);
	assert_int_equal(n, 13);
	assert_int_equal(nx_scan_rebase(sc, after), 0);
	assert_int_equal(nx_scan_feed(sc, "23\r\n" SECRET "\r\n", sizeof(SECRET) + 6, out, &n),
			 -EACCES);
	nx_scan_free(sc);
	nx_scrub_free(before);
	nx_scrub_free(after);
}

/* A secret that begins with hex digits, or one hex digit, after an escape's
 * first characters that the sandbox wrote before its placeholder: "%" +
 * "d3adbeef..." reads as %d3 then "adbeef...", and the secret must still be
 * found, raw or partly encoded, in a head and in a stream (every split). */
#define HEX    "d3adbeef0123456789abcdef"
#define GOOGLE "AIzaSyFakeKey0123456789abcdefghij"

/* A secret that begins with hex digits, and one that begins 'A' (%0A) */
static const struct nx_cred hex_google[] = {
    {"hex", PH, sizeof(PH) - 1, HEX, sizeof(HEX) - 1, &hosts, false, POLICY_INJECT_REPLACE, NULL,
     false, NULL, 0, 0},
    {"google", PH2, sizeof(PH2) - 1, GOOGLE, sizeof(GOOGLE) - 1, &hosts, false,
     POLICY_INJECT_REPLACE, NULL, false, NULL, 0, 0},
};

static void test_a_stray_escape_before_a_secret_does_not_hide_it(void **state)
{
	static const char *const pre[] = {"%",	   "%%",   "%4", "%25", "%2525", "%252",
					  "\\u00", "\\u0", "\\", "%0",	"%%%"};
	/* HEX after each, raw and partly encoded; GOOGLE after "%0" (%0A) */
	static const char *const body[] = {HEX, "d3%61dbeef0123456789abcdef",
					   "d3\\u0061dbeef012345678%39abcdef"};
	struct nx_scrub *s = NULL;
	char head[512], want[512], *out;
	size_t len;
	unsigned hits;

	(void)state;
	assert_int_equal(nx_scrub_new(hex_google, 2, &s), 0);
	for (size_t p = 0; p < sizeof(pre) / sizeof(pre[0]); p++)
		for (size_t b = 0; b < sizeof(body) / sizeof(body[0]) + 1; b++) {
			const char *sec = b < 3 ? body[b] : GOOGLE;
			unsigned bit = b < 3 ? 1 : 2;
			snprintf(head, sizeof(head),
				 "HTTP/1.1 404 No\r\nX-Echo: /?t=%s%s&x\r\n\r\n", pre[p], sec);
			snprintf(want, sizeof(want),
				 "HTTP/1.1 404 No\r\nX-Echo: /?t=%s%s&x\r\n\r\n", pre[p],
				 b < 3 ? PH : PH2);
			assert_int_equal(nx_scrub_head(s, head, strlen(head), &out, &len, &hits),
					 1);
			assert_int_equal(hits, bit);
			if (len != strlen(want) || memcmp(out, want, len) != 0)
				fail_msg("%s -> %.*s", head, (int)len, out);
			free(out);
			for (size_t step = 1; step <= strlen(head); step++) {
				assert_int_equal(
				    stream(s, NX_FRAME_PLAIN, head, strlen(head), step, &out, &len),
				    -EACCES);
				free(out);
			}
		}
	/* the controls: escapes that read as other bytes whichever way they
	 * are read, and a secret with one character changed, pass whole */
	static const char *const clean[] = {
	    "%d3%ad%be%ef0123456789abcdef", "%d3adbeef0123456789abcdeF",
	    "%0AIzaSyFakeKey0123456789abcdefghiJ", "%%d3adbeef0123456789abcde"};
	for (size_t c = 0; c < sizeof(clean) / sizeof(clean[0]); c++) {
		snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nX-Echo: %s\r\n\r\n", clean[c]);
		assert_int_equal(nx_scrub_head(s, head, strlen(head), &out, &len, &hits), 0);
		assert_null(out);
		passes_whole(s, NX_FRAME_PLAIN, head, 3);
	}
	nx_scrub_free(s);
}

/* Many prefixes of a secret open at once (a secret of backslashes, in a
 * run of them) are all followed: no whole secret, nothing cut; the whole
 * one still is.  (With 8 parses a reader the run of twenty was cut: the
 * cut an outside review made an oracle of, below.) */
static void test_many_open_prefixes_are_followed(void **state)
{
	static char bs[61];
	struct nx_cred bc[] = {
	    {"bs", PH, sizeof(PH) - 1, bs, 30, &hosts, false, POLICY_INJECT_REPLACE, NULL, false,
	     NULL, 0, 0},
	};
	struct nx_scrub *s = NULL;
	char head[256], *out;
	size_t len;
	unsigned hits;

	(void)state;
	memset(bs, '\\', 60);
	assert_int_equal(nx_scrub_new(bc, 1, &s), 0);
	/* twenty: no whole secret, raw or decoded, but ten prefixes open */
	snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nX: %.20s\r\n\r\n", bs);
	assert_int_equal(nx_scrub_head(s, head, strlen(head), &out, &len, &hits), 0);
	for (size_t step = 1; step <= 7; step += 3)
		passes_whole(s, NX_FRAME_PLAIN, head, step);
	/* sixty: the secret whole (raw, and decoded from the pairs) */
	snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nX: %.60s\r\n\r\n", bs);
	assert_int_equal(nx_scrub_head(s, head, strlen(head), &out, &len, &hits), 1);
	free(out);
	assert_int_equal(stream(s, NX_FRAME_PLAIN, head, strlen(head), 5, &out, &len), -EACCES);
	free(out);
	nx_scrub_free(s);
}

/*
 * An outside review's oracle: seven parses kept open by Basic values the
 * client sent (each kept as a needle, its opening the client's), the
 * eighth reading the secret's base64 as far as it is known, and the
 * guessed symbol's last hex digit beginning a ninth: with 8 a reader the
 * stream was cut exactly when the guess was right, and the secret came
 * out a symbol per probe.  Each probe here (the text an echo hands back,
 * the eight Basic values it sent, base64(prefix + secret)) passes whole,
 * right guess or wrong.
 */
static void test_open_beginnings_tell_nothing_of_a_guess(void **state)
{
	static const char *const probe[2][9] = {
	    {"%4A%4A%4A%4A%4A%4A%4AZ2hwX3Jl%59", /* "Y", the next symbol of base64(SECRET) */
	     "4AJJJJJJZ2hwX3JlYWxTZWNyZXRWYWx1ZTAxMjM0NTY3ODlhYmNkZWY",
	     "4AJJJJJZ2hwX3JlYZ2hwX3JlYWxTZWNyZXRWYWx1ZTAxMjM0NTY3ODlhYmNkZWY",
	     "4AJJJJZ2hwX3JlYAZ2hwX3JlYWxTZWNyZXRWYWx1ZTAxMjM0NTY3ODlhYmNkZWY",
	     "4AJJJZ2hwX3JlYAAZ2hwX3JlYWxTZWNyZXRWYWx1ZTAxMjM0NTY3ODlhYmNkZWY",
	     "4AJJZ2hwX3JlYAAAZ2hwX3JlYWxTZWNyZXRWYWx1ZTAxMjM0NTY3ODlhYmNkZWY",
	     "4AJZ2hwX3JlYZ2hwX3JlYWxTZWNyZXRWYWx1ZTAxMjM0NTY3ODlhYmNkZWY",
	     "4AZ2hwX3JlYAZ2hwX3JlYWxTZWNyZXRWYWx1ZTAxMjM0NTY3ODlhYmNkZWY",
	     "59AAZ2hwX3JlYWxTZWNyZXRWYWx1ZTAxMjM0NTY3ODlhYmNkZWY"},
	    {"%4A%4A%4A%4A%4A%4A%4AZ2hwX3Jl%51", /* "Q": wrong */
	     "4AJJJJJJZ2hwX3JlYWxTZWNyZXRWYWx1ZTAxMjM0NTY3ODlhYmNkZWY",
	     "4AJJJJJZ2hwX3JlQZ2hwX3JlYWxTZWNyZXRWYWx1ZTAxMjM0NTY3ODlhYmNkZWY",
	     "4AJJJJZ2hwX3JlQAZ2hwX3JlYWxTZWNyZXRWYWx1ZTAxMjM0NTY3ODlhYmNkZWY",
	     "4AJJJZ2hwX3JlQAAZ2hwX3JlYWxTZWNyZXRWYWx1ZTAxMjM0NTY3ODlhYmNkZWY",
	     "4AJJZ2hwX3JlQAAAZ2hwX3JlYWxTZWNyZXRWYWx1ZTAxMjM0NTY3ODlhYmNkZWY",
	     "4AJZ2hwX3JlQZ2hwX3JlYWxTZWNyZXRWYWx1ZTAxMjM0NTY3ODlhYmNkZWY",
	     "4AZ2hwX3JlQAZ2hwX3JlYWxTZWNyZXRWYWx1ZTAxMjM0NTY3ODlhYmNkZWY",
	     "51AAZ2hwX3JlYWxTZWNyZXRWYWx1ZTAxMjM0NTY3ODlhYmNkZWY"},
	};
	struct nx_scrub *base = NULL, *s = NULL;
	struct nx_scrub_extra extra[8];
	char head[256], *out;
	size_t len;
	unsigned hits;

	(void)state;
	assert_int_equal(nx_scrub_new(creds, 1, &base), 0);
	for (int p = 0; p < 2; p++) {
		for (int i = 0; i < 8; i++)
			extra[i] =
			    (struct nx_scrub_extra){probe[p][i + 1], strlen(probe[p][i + 1]), 0};
		assert_int_equal(nx_scrub_with(base, extra, 8, &s), 0);
		for (size_t step = 1; step <= strlen(probe[p][0]); step++)
			passes_whole(s, NX_FRAME_PLAIN, probe[p][0], step);
		snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nX-Echo: %s\r\n\r\n", probe[p][0]);
		assert_int_equal(nx_scrub_head(s, head, strlen(head), &out, &len, &hits), 0);
		nx_scrub_free(s);
	}
	nx_scrub_free(base);
}

/* A Basic value the client sent begins no anchored parse: its opening is
 * the client's, which could hold one open at every escape of an echo
 * (here "41AAA...", against "%41" 400 times: 400 open at once), each
 * followed over every byte after it.  The slots stay few. */
static void test_a_clients_basic_value_opens_no_parse(void **state)
{
	static char kept[601], text[1201];
	struct nx_scrub *base = NULL, *s = NULL;
	struct nx_scrub_extra extra = {kept, 600, 0};
	struct nx_scan *sc;
	char *out = malloc(sizeof(text) + 4096);
	size_t len;

	(void)state;
	memset(kept, 'A', 600);
	kept[0] = '4';
	kept[1] = '1';
	for (int i = 0; i < 400; i++)
		memcpy(text + 3 * i, "%41", 3);
	assert_int_equal(nx_scrub_new(creds, 1, &base), 0);
	assert_int_equal(nx_scrub_with(base, &extra, 1, &s), 0);
	assert_int_equal(nx_scan_new(s, &sc), 0);
	nx_scan_reset(sc, NX_FRAME_PLAIN);
	assert_int_equal(nx_scan_feed(sc, text, strlen(text), out, &len), 0);
	assert_true(nx_scan_anchor_slots(sc) <= 8);
	nx_scan_free(sc);
	free(out);
	/* the control: the stream's own parse still finds the value whole */
	passes_whole(s, NX_FRAME_PLAIN, text, 7);
	assert_int_equal(stream(s, NX_FRAME_PLAIN, kept, 600, 7, &out, &len), -EACCES);
	free(out);
	nx_scrub_free(s);
	nx_scrub_free(base);
}

/* A refresh while a match begun inside a stray escape is under way: the
 * parse anchored there goes on for the old secret, now the previous one
 * (its needles elsewhere among more), and ends a stream that completes
 * it; one that does not passes whole. */
static void test_anchored_parse_across_a_refresh(void **state)
{
	struct nx_scrub *before = NULL, *after = NULL;
	struct nx_scan *sc = NULL;
	char out[4096];
	size_t n;

	(void)state;
	refreshed("d3adbeef0123456789abcdef-old/0", &before, &after);
	for (int tail = 0; tail < 2; tail++) {
		/* "%d3" reads as an escape: the match begins inside it; the
		 * '/' is written twice (\\\/), so the anchored parse is the
		 * two-level reader's */
		assert_int_equal(nx_scan_new(before, &sc), 0);
		nx_scan_reset(sc, NX_FRAME_PLAIN);
		assert_int_equal(nx_scan_feed(sc, "x=%d3adbeef0123", 15, out, &n), 0);
		assert_int_equal(nx_scan_rebase(sc, after), 0);
		if (tail == 0) {
			assert_int_equal(
			    nx_scan_feed(sc, "456789abcdef-old\\\\\\/0 y", 23, out, &n), -EACCES);
		} else {
			/* the control: one character changed */
			assert_int_equal(
			    nx_scan_feed(sc, "456789abcdef-old\\\\\\/1 y", 23, out, &n), 0);
			n += nx_scan_flush(sc, out + n);
		}
		nx_scan_free(sc);
	}
	nx_scrub_free(before);
	nx_scrub_free(after);
}

/* ---- two writings stacked ------------------------------------------------ */

#define STACK "q8Fz/Ab+Kd\"0123456789&abcXYZ<>"

/* A JSON string's writing of IN: what encoders escape (", \, and / as
 * PHP does, < > & as Go does), or, ALL, every character but letters and
 * digits as \u00XX. */
static void enc_json(const char *in, char *out, bool all)
{
	for (; *in; in++) {
		unsigned char c = (unsigned char)*in;
		bool alnum = (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
		if (all && !alnum)
			out += sprintf(out, "\\u%04x", c);
		else if (c == '"' || c == '\\' || c == '/')
			out += sprintf(out, "\\%c", c);
		else if (c == '<' || c == '>' || c == '&')
			out += sprintf(out, "\\u%04x", c);
		else
			*out++ = (char)c;
	}
	*out = '\0';
}

/* A URL's writing of IN: every character but the unreserved ones as %XX,
 * or, ALL, every character. */
static void enc_url(const char *in, char *out, bool all)
{
	for (; *in; in++) {
		unsigned char c = (unsigned char)*in;
		if (!all && (((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9') ||
			     strchr("-._~", c)))
			*out++ = (char)c;
		else
			out += sprintf(out, "%%%02X", c);
	}
	*out = '\0';
}

static void enc(int how, const char *in, char *out)
{
	if (how < 2)
		enc_json(in, out, how == 1);
	else
		enc_url(in, out, how == 3);
}

/* A secret written twice, by any two of JSON, JSON with every character
 * escaped, a URL and a URL with every character escaped: JSON quoted in
 * JSON (\\\/), JSON in a URL (%5C%2F), a URL in JSON (\u00252F), a URL
 * in a URL (%25%32%46).  Each is replaced in a head and cuts a stream at
 * every split; one character changed, each passes whole. */
static void test_two_writings_stacked(void **state)
{
	static const struct nx_cred sc[] = {
	    {"stack", PH, sizeof(PH) - 1, STACK, sizeof(STACK) - 1, &hosts, false,
	     POLICY_INJECT_REPLACE, NULL, false, NULL, 0, 0},
	};
	static const char *const other = "q8Fz/Ab+Kd\"0123456789&abcXYZ<)";
	struct nx_scrub *s = NULL;
	char mid[1024], form[4096], head[4400], want[4400], *out, *core = b64("u:" STACK);
	size_t len;
	unsigned hits;

	(void)state;
	assert_int_equal(nx_scrub_new(sc, 1, &s), 0);
	for (int outer = 0; outer < 4; outer++)
		for (int inner = 0; inner < 4; inner++)
			for (int what = 0; what < 3; what++) {
				/* the secret, its Basic value, one letter changed */
				enc(inner, what == 0 ? STACK : what == 1 ? core : other, mid);
				enc(outer, mid, form);
				snprintf(head, sizeof(head),
					 "HTTP/1.1 400 No\r\nX-Echo: {\"e\":\"%s\"}\r\n\r\n", form);
				if (what == 2) {
					assert_int_equal(
					    nx_scrub_head(s, head, strlen(head), &out, &len, &hits),
					    0);
					passes_whole(s, NX_FRAME_PLAIN, head, 7);
					continue;
				}
				snprintf(want, sizeof(want),
					 "HTTP/1.1 400 No\r\nX-Echo: {\"e\":\"%s%s\"}\r\n\r\n",
					 what == 1 ? "dTo" : "", PH);
				int r = nx_scrub_head(s, head, strlen(head), &out, &len, &hits);
				if (r != 1)
					fail_msg("%d %d %d: not seen in %s", outer, inner, what,
						 head);
				/* a Basic value's first characters hold "u:", not the
				 * secret: they stay */
				if (what == 0 &&
				    (len != strlen(want) || memcmp(out, want, len) != 0))
					fail_msg("%s -> %.*s", head, (int)len, out);
				free(out);
				for (size_t step = 1; step <= strlen(head); step += 1 + step / 8) {
					assert_int_equal(stream(s, NX_FRAME_PLAIN, head,
								strlen(head), step, &out, &len),
							 -EACCES);
					/* held whole, up to nine bytes a character (a
					 * URL's every character in a URL's, %25%34%31):
					 * nothing of it went out before the cut (of a
					 * Basic value, its first three characters, "u:"'s,
					 * at most) */
					if (len >
					    (size_t)(strstr(head, form) - head) + (what ? 27 : 0))
						fail_msg("%d %d: %zu bytes out of %s", outer, inner,
							 len, head);
					free(out);
				}
			}
	free(core);
	nx_scrub_free(s);
}

/* The secret's base64 broken into lines, as MIME (CRLF), PEM and the
 * base64 tool (LF), JSON (GitHub's contents: \n), JSON quoted again and a
 * URL write it: found by an outside review, it passed whole.
 * Every width from one character (a break inside each alignment's core),
 * and the usual ones; in a body at every split, nothing of it out before
 * the cut at the usual widths; in a head.  The same text made from other
 * bytes passes whole. */
static void test_base64_broken_into_lines(void **state)
{
	static const char *const breaks[] = {"\n", "\r\n", "\\n", "\\r\\n", "\\\\n", "%0A"};
	static const size_t widths[] = {1, 2, 3, 5, 8, 60, 64, 76};
	struct nx_scrub *s = scrub();
	char *enc[2] = {b64(SECRET), b64("ghp_otherValueOf0123456789abcdefXY")};
	char body[2048], head[2048], *out;
	size_t len;
	unsigned hits;

	(void)state;
	for (size_t b = 0; b < sizeof(breaks) / sizeof(breaks[0]); b++)
		for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++)
			for (int other = 0; other < 2; other++) {
				char wrapped[1024] = "";
				size_t o = 0, n = strlen(enc[other]);
				for (size_t i = 0; i < n; i += widths[w])
					o += (size_t)snprintf(wrapped + o, sizeof(wrapped) - o,
							      "%s%.*s", i ? breaks[b] : "",
							      (int)widths[w], enc[other] + i);
				snprintf(body, sizeof(body), "{\"content\": \"%s\"}\n", wrapped);
				if (other) {
					passes_whole(s, NX_FRAME_PLAIN, body, 7);
					continue;
				}
				for (size_t step = 1; step <= strlen(body); step += 1 + step / 4) {
					if (stream(s, NX_FRAME_PLAIN, body, strlen(body), step,
						   &out, &len) != -EACCES)
						fail_msg("not seen in %s (step %zu)", body, step);
					/* held whole where lines are a few characters
					 * long or more */
					if (widths[w] >= 3 && len > 13)
						fail_msg("%zu bytes out of %s", len, body);
					free(out);
				}
				/* a head holds no line break: JSON's, or a URL's */
				if (strchr(breaks[b], '\n') || strchr(breaks[b], '\r'))
					continue;
				snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nX-C: %s\r\n\r\n",
					 wrapped);
				if (nx_scrub_head(s, head, strlen(head), &out, &len, &hits) != 1)
					fail_msg("not seen in %s", head);
				free(out);
			}
	free(enc[0]);
	free(enc[1]);
	nx_scrub_free(s);
}

/* Line breaks with no base64 around them: blank lines in JSON in JSON
 * (a tool call's arguments holding code) and runs of JSON's \n in a
 * chunked body, which every byte of goes through the decoders.  A base64
 * needle that passed over breaks before its first character kept a parse
 * anchored at each open, and more than 8 cut the text (found by an outside
 * review of the change that made breaks pass).  They pass whole. */
static void test_line_breaks_alone_pass(void **state)
{
	struct nx_scrub *s = scrub();
	char body[512], framed[600], head[600], *out;
	size_t len;
	unsigned hits;

	(void)state;
	snprintf(body, sizeof(body), "{\"arguments\":\"{\\\"body\\\":\\\"Hi%s%sBye\\\"}\"}",
		 "\\\\r\\\\n\\\\r\\\\n\\\\r\\\\n\\\\r\\\\n\\\\r\\\\n",
		 "\\\\n\\\\n\\\\n\\\\n\\\\n\\\\n\\\\n\\\\n\\\\n\\\\n\\\\n\\\\n");
	for (size_t step = 1; step < 40; step += 3)
		passes_whole(s, NX_FRAME_PLAIN, body, step);
	snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nX-A: %s\r\n\r\n", body);
	assert_int_equal(nx_scrub_head(s, head, strlen(head), &out, &len, &hits), 0);
	snprintf(body, sizeof(body), "{\"content\": \"int x;%sint y;\"}",
		 "\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\r\\n\\r\\n\\r\\n");
	snprintf(framed, sizeof(framed), "%zx\r\n%s\r\n0\r\n\r\n", strlen(body), body);
	for (size_t step = 1; step < 40; step += 3)
		passes_whole(s, NX_FRAME_CHUNKED, framed, step);
	nx_scrub_free(s);
}

/* Second writings mixed within a character, found by an outside review: a
 * '\' that begins an escape of the second writing that turns out to be
 * none, after a '\' the first writing had open (%5C, then \u0 and %30),
 * and a '%' or '\' of the first writing kept as it is before a character
 * written again (%%36, %\u0036, \%75), which the skip by pairs passed
 * over.  Each is seen in a head and cuts a stream at every split. */
static void test_second_writings_mixed_within_a_character(void **state)
{
	static const char *const text[] = {
	    "%5C\\u0%3041IzaSyFakeKey0123456789abcdefghij",
	    "%%3643adbeef0123456789abcdef",
	    "%\\u003643adbeef0123456789abcdef",
	    "\\%750041IzaSyFakeKey0123456789abcdefghij",
	};
	struct nx_scrub *s = NULL;
	char head[512], *out;
	size_t len;
	unsigned hits;

	(void)state;
	assert_int_equal(nx_scrub_new(hex_google, 2, &s), 0);
	for (size_t t = 0; t < sizeof(text) / sizeof(text[0]); t++) {
		snprintf(head, sizeof(head), "HTTP/1.1 404 No\r\nX-Echo: /?t=%s&x\r\n\r\n",
			 text[t]);
		if (nx_scrub_head(s, head, strlen(head), &out, &len, &hits) != 1)
			fail_msg("not seen in %s", head);
		assert_null(memmem(out, len, text[t] + 4, strlen(text[t] + 4)));
		free(out);
		for (size_t step = 1; step <= strlen(head); step++) {
			assert_int_equal(
			    stream(s, NX_FRAME_PLAIN, head, strlen(head), step, &out, &len),
			    -EACCES);
			free(out);
		}
	}
	nx_scrub_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_head_replaced),
	    cmocka_unit_test(test_stream_every_split),
	    cmocka_unit_test(test_stream_clean_passes_whole),
	    cmocka_unit_test(test_held_bytes),
	    cmocka_unit_test(test_chunked),
	    cmocka_unit_test(test_websocket),
	    cmocka_unit_test(test_base64_any_alignment),
	    cmocka_unit_test(test_basic_short_secret),
	    cmocka_unit_test(test_scrub_with_a_basic_value),
	    cmocka_unit_test(test_budget),
	    cmocka_unit_test(test_previous_secret_and_scan_lifetime),
	    cmocka_unit_test(test_scan_rebased_at_a_refresh),
	    cmocka_unit_test(test_a_stray_escape_before_a_secret_does_not_hide_it),
	    cmocka_unit_test(test_many_open_prefixes_are_followed),
	    cmocka_unit_test(test_open_beginnings_tell_nothing_of_a_guess),
	    cmocka_unit_test(test_a_clients_basic_value_opens_no_parse),
	    cmocka_unit_test(test_two_writings_stacked),
	    cmocka_unit_test(test_base64_broken_into_lines),
	    cmocka_unit_test(test_line_breaks_alone_pass),
	    cmocka_unit_test(test_anchored_parse_across_a_refresh),
	    cmocka_unit_test(test_second_writings_mixed_within_a_character),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
