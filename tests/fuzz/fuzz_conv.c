/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: whole conversations through the proxy's machines.  An input
 * is what the client sends and what the upstream answers:
 *
 *   [2 bytes: N, little-endian] [N bytes: the client's] [the upstream's]
 *
 * In the client's bytes "%P" stands for the upstream's port in decimal and
 * "%p" for it in two bytes (SOCKS5), so that inputs can reach the upstream
 * the policy allows (up.test, on a loopback port picked at each run).  The
 * client is a socketpair end, the upstream a loopback listener
 * (tests/fuzz/conv.h); a credential is bound to up.test, so requests are
 * rewritten and responses scanned.  Every machine must end the
 * conversation without a sanitizer report.  The client's bytes are also
 * one query to the sandbox's DNS (names.c), with nothing past them.
 */
#include "conv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char host_rule[32]; /* up.test:PORT, set at each run */
static struct policy_item hosts_items[] = {{.value = host_rule}};
static struct policy_list hosts = {hosts_items, 1, 1};
static const struct netproxy_credential creds[] = {
    {"k", "ringfence_k_AAAAAAAAAAAAAAAAAAAA", 32, "s3cret-k", 8, &hosts, true},
};

/* The client's bytes with the port put in: their length. */
static size_t expand(const uint8_t *in, size_t n, uint16_t port, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 8 < cap; i++) {
		if (in[i] == '%' && i + 1 < n && in[i + 1] == 'P') {
			o += (size_t)snprintf(out + o, cap - o, "%u", port);
			i++;
		} else if (in[i] == '%' && i + 1 < n && in[i + 1] == 'p') {
			out[o++] = (char)(port >> 8);
			out[o++] = (char)port;
			i++;
		} else {
			out[o++] = (char)in[i];
		}
	}
	return o;
}

/* A few rounds of the loop, bounded by count rather than time, reading
 * whatever the proxy sent to either end, until it closes the client's. */
static void rounds(struct conv *cv, int n, const uint8_t *up, size_t up_len, bool *up_sent)
{
	char sink[16384];
	bool closed = false;

	for (int i = 0; i < n && !closed; i++) {
		ssize_t r;
		struct pollfd pf = {netproxy_fd(cv->np), POLLIN, 0};
		netproxy_dispatch(cv->np);
		if (cv->up == -1)
			cv->up = accept4(cv->listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cv->up >= 0 && !*up_sent) {
			*up_sent = true;
			if (up_len)
				(void)send(cv->up, up, up_len, MSG_NOSIGNAL | MSG_DONTWAIT);
			shutdown(cv->up, SHUT_WR);
		}
		if (cv->up >= 0)
			while (recv(cv->up, sink, sizeof(sink), MSG_DONTWAIT) > 0)
				;
		while ((r = recv(cv->client, sink, sizeof(sink), MSG_DONTWAIT)) > 0)
			;
		closed = r == 0; /* the proxy ended the conversation */
		(void)poll(&pf, 1, 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char client[70000];
	struct conv cv;
	size_t n, cl;
	bool up_sent = false;

	if (size < 2)
		return 0;
	n = (size_t)(data[0] | data[1] << 8);
	if (n > size - 2)
		n = size - 2;
	if (conv_open(&cv, NULL) < 0)
		abort();
	snprintf(host_rule, sizeof(host_rule), "up.test:%u", cv.port);
	if (netproxy_set_credentials(cv.np, creds, 1, NULL) < 0)
		abort();
	cl = expand(data + 2, n, cv.port, client, sizeof(client));
	{
		struct nx_decider d = {.p = cv.p, .creds = creds, .n_creds = 1};
		struct nx_names names = {0};
		struct nx_dns_result res;
		uint8_t *q = malloc(cl ? cl : 1), out[512];
		memcpy(q, client, cl);
		(void)nx_dns_answer(&d, &names, q, cl, out, sizeof(out), &res);
		(void)nx_dns_answer(&d, &names, q, cl, out, sizeof(out), &res);
		free(q);
		nx_names_free(&names);
	}
	(void)send(cv.client, client, cl, MSG_NOSIGNAL | MSG_DONTWAIT);
	rounds(&cv, 40, data + 2 + n, size - 2 - n, &up_sent);
	shutdown(cv.client, SHUT_WR);
	rounds(&cv, 10, data + 2 + n, size - 2 - n, &up_sent);
	conv_close(&cv);
	return 0;
}
