/* SPDX-License-Identifier: MIT */
/*
 * Secrets fetched again while the proxy runs (source = cmd: with a ttl).
 *
 * The command runs in a helper process of the supervisor's (forked before
 * any secret was read; supervisor/secretcmd.c), never here: this loop only
 * writes a credential's index on a socket and reads the answer when it
 * comes, so a slow or hanging command stalls no connection.  A refresh
 * starts once the secret is half its ttl old (the command's timeout is at
 * most half the ttl, so the answer comes before the secret expires); until
 * it comes the cached secret is used.  An expired secret is never written:
 * a request that would carry it is a 502 naming the credential, and a new
 * try starts (at most one a second).  A secret replaced keeps being looked
 * for in responses (scrub.c), with its successor, until the next one; a
 * response under way takes the new needles at its next bytes (reflect.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"

#define RETRY_MS 1000

static void emit_error(struct netproxy *np, const struct nx_cred *cr, const char *why)
{
	struct netproxy_event ev = {
	    .event = "cred.error",
	    .proto = "cmd",
	    .reason = why,
	    .credential = cr->name,
	    .where = "source",
	};

	if (np->hooks.event)
		np->hooks.event(np->hooks.ud, &ev);
}

static void fail(struct netproxy *np, size_t k, const char *why)
{
	struct nx_refresh_state *st = &np->refresh[k];

	st->pending = false;
	st->failed = true;
	snprintf(st->why, sizeof(st->why), "%s", why);
	emit_error(np, &np->creds[k], why);
}

static void start(struct netproxy *np, size_t k, long now)
{
	uint32_t idx = np->creds[k].cmd_index;
	struct nx_refresh_state *st = &np->refresh[k];

	st->last_try = now;
	if (!np->secret_msg || np->secret_tag.fd < 0) {
		fail(np, k, "the helper that runs the command has ended");
		return;
	}
	if (send(np->secret_tag.fd, &idx, sizeof(idx), MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(idx)) {
		fail(np, k, "the helper that runs the command cannot be asked");
		return;
	}
	st->pending = true;
}

static bool refreshable(const struct netproxy *np, size_t k)
{
	return np->creds[k].slot && np->creds[k].ttl_ms > 0;
}

int netproxy_set_secret_source(struct netproxy *np, int fd, long fetched_ms)
{
	int r;

	np->secret_tag = (struct nx_tag){.kind = NX_TAG_SECRET, .fd = fd, .ptr = np};
	np->secret_msg = malloc(sizeof(struct netproxy_secret_reply) + NETPROXY_SECRET_MAX + 1);
	if (!np->secret_msg) {
		close(fd);
		np->secret_tag.fd = -1;
		return -ENOMEM;
	}
	r = nx_loop_watch(&np->loop, &np->secret_tag, EPOLLIN);
	if (r < 0) {
		close(fd);
		np->secret_tag.fd = -1;
		return r;
	}
	for (size_t k = 0; k < np->n_creds; k++)
		np->refresh[k].fetched = fetched_ms;
	return 0;
}

/* The earlier value V (LEN bytes) of credential K kept, to be looked
 * for in responses for the rest of the run: 0, or -ENOMEM. */
static int keep_old(struct netproxy *np, size_t k, const char *v, size_t len)
{
	struct nx_old *o = realloc(np->olds, (np->n_olds + 1) * sizeof(*o));
	char *copy = o ? malloc(len) : NULL;

	if (o)
		np->olds = o;
	if (!copy)
		return -ENOMEM;
	memcpy(copy, v, len);
	np->olds[np->n_olds++] = (struct nx_old){(unsigned)k, copy, len};
	np->refresh[k].n_old++;
	return 0;
}

/* A new secret for credential K, checked as one read at start is. */
static void take(struct netproxy *np, size_t k, const char *secret, size_t len)
{
	struct netproxy_credential *cr = &np->creds_rw[k];
	struct nx_refresh_state *st = &np->refresh[k];
	struct nx_scrub *s = NULL;

	if (memmem(secret, len, cr->placeholder, cr->placeholder_len)) {
		fail(np, k, "the command printed the placeholder itself");
		return;
	}
	if (len != cr->secret_len || memcmp(secret, cr->secret, len) != 0) {
		/* Every earlier value stays looked for in responses: a command
		 * that mints a token at each call leaves the older ones valid,
		 * and one the sandbox stored at a bound host while it was
		 * current would come back in plaintext once dropped (found by
		 * an outside review, when only the one before was kept).  Past
		 * NX_OLD_MAX values the new one is not taken: the current one
		 * serves until it expires, then requests are refused. */
		if (st->n_old >= NX_OLD_MAX) {
			char why[160];
			snprintf(why, sizeof(why),
				 "more new values in this run than the response scan keeps (%d): "
				 "a longer ttl, or a command that returns the same secret until "
				 "it expires",
				 NX_OLD_MAX);
			fail(np, k, why);
			return;
		}
		if (keep_old(np, k, cr->secret, cr->secret_len) < 0) {
			fail(np, k, "out of memory for the new secret's response scan");
			return;
		}
		explicit_bzero(cr->slot, cr->secret_len);
		memcpy(cr->slot, secret, len);
		cr->secret_len = len;
		if (nx_scrub_new_olds(np->creds, np->n_creds, np->olds, np->n_olds, &s) < 0) {
			/* the new secret cannot be looked for: not written either */
			cr->secret_len = 0;
			fail(np, k, "out of memory for the new secret's response scan");
			st->fetched = 0;
			return;
		}
		nx_scrub_free(np->scrub); /* scans under way move to the new one */
		np->scrub = s;
	}
	st->fetched = nx_now_ms();
	st->pending = false;
	st->failed = false;
	st->why[0] = '\0';
}

void nx_refresh_read(struct netproxy *np)
{
	struct netproxy_secret_reply *m = (struct netproxy_secret_reply *)np->secret_msg;
	const size_t cap = sizeof(*m) + NETPROXY_SECRET_MAX + 1;

	for (;;) {
		ssize_t n = recv(np->secret_tag.fd, np->secret_msg, cap, MSG_DONTWAIT);
		size_t k;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			/* the helper ended: every refresh under way failed */
			nx_loop_close(&np->loop, &np->secret_tag);
			for (k = 0; k < np->n_creds; k++)
				if (np->refresh[k].pending)
					fail(np, k, "the helper that runs the command has ended");
			return;
		}
		for (k = 0; k < np->n_creds; k++)
			if (refreshable(np, k) && np->creds[k].cmd_index == m->index)
				break;
		if ((size_t)n < sizeof(*m) || m->magic != NETPROXY_SECRET_MAGIC || k == np->n_creds)
			continue;
		m->why[sizeof(m->why) - 1] = '\0';
		if (!m->ok)
			fail(np, k, m->why);
		else if (m->len == 0 || m->len > NETPROXY_SECRET_MAX ||
			 (size_t)n != sizeof(*m) + m->len)
			fail(np, k, "the helper's answer is malformed");
		else
			take(np, k, np->secret_msg + sizeof(*m), m->len);
		explicit_bzero(np->secret_msg, (size_t)n);
	}
}

void nx_refresh_tick(struct netproxy *np)
{
	long now = nx_now_ms();

	for (size_t k = 0; k < np->n_creds; k++) {
		struct nx_refresh_state *st = &np->refresh[k];
		if (!refreshable(np, k) || st->pending)
			continue;
		if (now - st->fetched < (long)np->creds[k].ttl_ms / 2)
			continue;
		if (st->failed && now - st->last_try < RETRY_MS)
			continue;
		start(np, k, now);
	}
}

long nx_refresh_next(const struct netproxy *np)
{
	long now = nx_now_ms(), t = -1;

	for (size_t k = 0; k < np->n_creds; k++) {
		const struct nx_refresh_state *st = &np->refresh[k];
		long due;
		if (!refreshable(np, k) || st->pending)
			continue;
		due = st->fetched + (long)np->creds[k].ttl_ms / 2;
		if (st->failed && st->last_try + RETRY_MS > due)
			due = st->last_try + RETRY_MS;
		due = due > now ? due - now : 0;
		if (t < 0 || due < t)
			t = due;
	}
	return t;
}

const struct nx_cred *nx_cred_unavailable(struct netproxy *np, unsigned used, const char **why)
{
	long now = nx_now_ms();

	for (size_t k = 0; k < np->n_creds; k++) {
		struct nx_refresh_state *st = &np->refresh[k];
		if (!(used & (1u << k)) || !refreshable(np, k) ||
		    (np->creds[k].secret_len > 0 && now - st->fetched < (long)np->creds[k].ttl_ms))
			continue;
		if (!st->pending && now - st->last_try >= RETRY_MS)
			start(np, k, now);
		*why = st->failed ? st->why : "it expired and its command has not answered yet";
		return &np->creds[k];
	}
	return NULL;
}

void nx_refresh_free(struct netproxy *np)
{
	for (size_t i = 0; i < np->n_olds; i++) {
		explicit_bzero((char *)np->olds[i].value, np->olds[i].len);
		free((char *)np->olds[i].value);
	}
	free(np->olds);
	np->olds = NULL;
	np->n_olds = 0;
	for (size_t k = 0; k < NX_CRED_MAX; k++)
		np->refresh[k].n_old = 0;
	if (np->secret_msg) {
		explicit_bzero(np->secret_msg,
			       sizeof(struct netproxy_secret_reply) + NETPROXY_SECRET_MAX + 1);
		free(np->secret_msg);
		np->secret_msg = NULL;
		if (np->secret_tag.fd >= 0)
			close(np->secret_tag.fd); /* the loop is gone by now */
		np->secret_tag.fd = -1;
	}
	if (np->creds_rw) {
		free(np->creds_rw);
		np->creds_rw = NULL;
	}
}
