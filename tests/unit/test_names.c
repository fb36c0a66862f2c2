/* SPDX-License-Identifier: MIT */
/* netproxy/names.c and decide.c's nx_decide_name: which names the sandbox's
 * DNS answers, the addresses it gives, and every malformed query it must
 * turn away without reading past what it was given. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../common/macros.h"
#include "../../netproxy/netproxy_internal.h"

#define PH "ringfence_k_AAAAAAAAAAAAAAAAAAAAAAAA"

static struct policy_item cred_items[] = {{.value = "api.example"}};
static struct policy_list cred_hosts = {cred_items, 1, 1};
static const struct nx_cred creds[] = {
    {.name = "k",
     .placeholder = PH,
     .placeholder_len = sizeof(PH) - 1,
     .secret = "s3cret",
     .secret_len = 6,
     .hosts = &cred_hosts},
};

static const char policy_text[] = "[network]\nmode = proxy\n"
				  "allow = good.example *.wild.example db.example:5432 "
				  "api.example both.example half.example\n"
				  "allow = GET https://ruled.example/repos/** "
				  "POST http://*.ruled.example:8080/x\n"
				  "deny = both.example half.example:5432 no.wild.example\n";

static struct policy *load(void)
{
	struct policy *p = NULL;
	struct policy_error err = {0};

	if (policy_load_string("t.ini", policy_text, NULL, &p, &err) < 0)
		fail_msg("%s", err.msg);
	return p;
}

/* A query for NAME (dotted) of TYPE, id 0x1234, RD set: its length. */
static size_t query(uint8_t *q, const char *name, uint16_t type)
{
	size_t off = 12;

	memset(q, 0, 12);
	q[0] = 0x12;
	q[1] = 0x34;
	q[2] = 0x01; /* RD */
	q[5] = 1;    /* QDCOUNT */
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		q[off++] = (uint8_t)l;
		memcpy(q + off, name, l);
		off += l;
		name += l + (dot ? 1 : 0);
	}
	q[off++] = 0;
	q[off++] = (uint8_t)(type >> 8);
	q[off++] = (uint8_t)type;
	q[off++] = 0;
	q[off++] = 1; /* IN */
	return off;
}

struct got {
	int rcode;
	int ancount;
	uint8_t addr[16];
	size_t addr_len;
	uint32_t ttl;
};

static struct got ask(struct nx_names *t, const struct policy *p, const uint8_t *q, size_t n,
		      struct nx_dns_result *res)
{
	struct nx_decider d = {.p = p, .creds = creds, .n_creds = 1};
	uint8_t out[512];
	struct got g = {.rcode = -1};
	size_t len = nx_dns_answer(&d, t, q, n, out, sizeof(out), res);

	if (len == 0)
		return g;
	assert_true(len >= 12);
	assert_int_equal(out[0], q[0]);
	assert_int_equal(out[1], q[1]);
	assert_true(out[2] & 0x80); /* QR */
	g.rcode = out[3] & 0x0f;
	g.ancount = out[6] << 8 | out[7];
	if (g.ancount) {
		size_t qlen = n - 12;
		const uint8_t *a = out + 12 + qlen;
		assert_int_equal(len, 12 + qlen + 12 + (size_t)(a[10] << 8 | a[11]));
		assert_int_equal(a[0], 0xc0);
		assert_int_equal(a[1], 0x0c);
		g.ttl = (uint32_t)a[6] << 24 | (uint32_t)a[7] << 16 | (uint32_t)a[8] << 8 | a[9];
		g.addr_len = (size_t)(a[10] << 8 | a[11]);
		memcpy(g.addr, a + 12, g.addr_len);
		/* the question is echoed as asked */
		assert_memory_equal(out + 12, q + 12, qlen);
	}
	return g;
}

static void test_which_names(void **state)
{
	static const struct {
		const char *name;
		bool answered;
	} cases[] = {
	    {"good.example", true},
	    {"GOOD.Example", true}, /* case folded */
	    {"a.wild.example", true},
	    {"x.y.wild.example", true},
	    {"wild.example", false},	/* *. is never the apex */
	    {"no.wild.example", false}, /* denied on every port */
	    {"db.example", true},	/* allowed on one port */
	    {"both.example", false},	/* allowed and denied on every port */
	    {"half.example", true},	/* denied on one port only */
	    {"evil.example", false},
	    {"good.example.evil", false},
	    {PH ".example", false}, /* a placeholder leaves by DNS */
	    {"api.example", true},
	    {"bad name.example", false},
	    {"bad\x01.example", false},
	    {"ruled.example", true}, /* named by a method and path rule */
	    {"a.ruled.example", true},
	    {"other.ruled.example.net", false},
	};
	struct policy *p = load();
	struct nx_names t = {0};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t q[512];
		struct nx_dns_result res;
		size_t n = query(q, cases[i].name, 1);
		struct got g = ask(&t, p, q, n, &res);
		if (cases[i].answered) {
			if (g.rcode != 0 || g.ancount != 1 || g.addr_len != 4)
				fail_msg("%s: rcode %d, %d answers", cases[i].name, g.rcode,
					 g.ancount);
			assert_int_equal(g.addr[0], 198);
			assert_true(g.addr[1] == 18 || g.addr[1] == 19);
			assert_true(g.ttl > 0 && g.ttl <= 60);
			assert_false(res.refused);
		} else if (g.rcode != 3 || g.ancount != 0 || !res.refused) {
			fail_msg("%s: rcode %d, %d answers, refused %d", cases[i].name, g.rcode,
				 g.ancount, res.refused);
		}
	}
	nx_names_free(&t);
	policy_free(p);
}

static void test_addresses_are_stable_and_map_back(void **state)
{
	struct policy *p = load();
	struct nx_names t = {0};
	struct nx_dns_result res;
	uint8_t q[512], a1[16] = {0}, a2[16] = {0}, a3[16] = {0},
			mapped[16] = {[10] = 0xff, [11] = 0xff};
	(void)state;

	struct got g = ask(&t, p, q, query(q, "good.example", 1), &res);
	memcpy(a1, g.addr, 4);
	g = ask(&t, p, q, query(q, "a.wild.example", 255), &res); /* ANY: the A record */
	assert_int_equal(g.ancount, 1);
	memcpy(a2, g.addr, 4);
	g = ask(&t, p, q, query(q, "Good.Example", 1), &res);
	memcpy(a3, g.addr, 4);
	assert_memory_equal(a1, a3, 4);
	assert_memory_not_equal(a1, a2, 4);
	assert_string_equal(nx_names_lookup(&t, 4, a1), "good.example");
	assert_string_equal(nx_names_lookup(&t, 4, a2), "a.wild.example");
	memcpy(mapped + 12, a2, 4);
	assert_string_equal(nx_names_lookup(&t, 6, mapped), "a.wild.example");
	assert_true(nx_names_is_synthetic(6, mapped));
	/* in the range, never given; and outside it */
	static const uint8_t never[16] = {198, 19, 200, 1}, outside[16] = {198, 20, 0, 1},
			     base[16] = {198, 18, 0, 0};
	assert_null(nx_names_lookup(&t, 4, never));
	assert_true(nx_names_is_synthetic(4, never));
	assert_null(nx_names_lookup(&t, 4, outside));
	assert_false(nx_names_is_synthetic(4, outside));
	assert_null(nx_names_lookup(&t, 4, base));
	nx_names_free(&t);
	policy_free(p);
}

static void test_other_types(void **state)
{
	struct policy *p = load();
	struct nx_names t = {0};
	struct nx_dns_result res;
	uint8_t q[512];
	static const uint16_t types[] = {28, 65, 64, 33, 15, 16, 12};
	(void)state;

	/* an allowed name: no record, no error (the client falls back to A) */
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		struct got g = ask(&t, p, q, query(q, "good.example", types[i]), &res);
		assert_int_equal(g.rcode, 0);
		assert_int_equal(g.ancount, 0);
		g = ask(&t, p, q, query(q, "evil.example", types[i]), &res);
		assert_int_equal(g.rcode, 3);
	}
	assert_int_equal(t.n, 0); /* no address given for them */
	/* localhost: the sandbox's own loopback */
	struct got g = ask(&t, p, q, query(q, "localhost", 1), &res);
	assert_int_equal(g.ancount, 1);
	assert_memory_equal(g.addr, "\x7f\0\0\x01", 4);
	g = ask(&t, p, q, query(q, "x.localhost", 28), &res);
	assert_int_equal(g.addr_len, 16);
	assert_int_equal(g.addr[15], 1);
	nx_names_free(&t);
	policy_free(p);
}

static void test_malformed(void **state)
{
	struct policy *p = load();
	struct nx_names t = {0};
	struct nx_dns_result res;
	uint8_t q[600];
	size_t n;
	(void)state;

	/* too short, or an answer: nothing is sent */
	n = query(q, "good.example", 1);
	assert_int_equal(ask(&t, p, q, 11, &res).rcode, -1);
	q[2] |= 0x80;
	assert_int_equal(ask(&t, p, q, n, &res).rcode, -1);
	q[2] &= 0x7f;
	/* cut anywhere in the question: FORMERR, nothing read beyond */
	for (size_t cut = 12; cut < n; cut++) {
		uint8_t *c = malloc(cut); /* ASan sees a read past it */
		memcpy(c, q, cut);
		struct got g = ask(&t, p, c, cut, &res);
		free(c);
		assert_int_equal(g.rcode, 1);
	}
	/* a compression pointer in the question */
	n = query(q, "good.example", 1);
	q[12] = 0xc0;
	assert_int_equal(ask(&t, p, q, n, &res).rcode, 1);
	/* two questions, none */
	n = query(q, "good.example", 1);
	q[5] = 2;
	assert_int_equal(ask(&t, p, q, n, &res).rcode, 1);
	q[5] = 0;
	assert_int_equal(ask(&t, p, q, n, &res).rcode, 1);
	/* another opcode: NOTIMP */
	q[5] = 1;
	q[2] = (uint8_t)(2 << 3);
	assert_int_equal(ask(&t, p, q, n, &res).rcode, 4);
	/* class CHAOS: REFUSED */
	n = query(q, "good.example", 1);
	q[n - 1] = 3;
	assert_int_equal(ask(&t, p, q, n, &res).rcode, 5);
	/* a name over 253 characters */
	char longname[300];
	memset(longname, 'a', sizeof(longname));
	for (size_t i = 60; i < sizeof(longname); i += 61)
		longname[i] = '.';
	longname[299] = '\0';
	n = query(q, longname, 1);
	assert_int_equal(ask(&t, p, q, n, &res).rcode, 1);
	/* a label over 63 */
	memset(longname, 'a', 70);
	strcpy(longname + 70, ".example");
	n = query(q, longname, 1);
	assert_int_equal(ask(&t, p, q, n, &res).rcode, 1);
	assert_int_equal(t.n, 0);
	nx_names_free(&t);
	policy_free(p);
}

static void test_table_full(void **state)
{
	struct nx_names t = {0};
	char name[32];
	uint32_t idx;
	(void)state;

	for (uint32_t i = 0; i < NX_NAMES_MAX; i++) {
		snprintf(name, sizeof(name), "n%u.example", i);
		assert_int_equal(nx_names_add(&t, name, &idx), 0);
		assert_int_equal(idx, i);
	}
	assert_int_equal(nx_names_add(&t, "one.more.example", &idx), -ENOSPC);
	assert_int_equal(nx_names_add(&t, "n7.example", &idx), 0); /* known: still given */
	assert_int_equal(idx, 7);
	uint8_t a[16] = {0};
	nx_names_addr(NX_NAMES_MAX - 1, a);
	assert_true(nx_names_is_synthetic(4, a));
	snprintf(name, sizeof(name), "n%u.example", NX_NAMES_MAX - 1);
	assert_string_equal(nx_names_lookup(&t, 4, a), name);
	nx_names_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_which_names),
	    cmocka_unit_test(test_addresses_are_stable_and_map_back),
	    cmocka_unit_test(test_other_types),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_table_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
