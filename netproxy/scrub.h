/* SPDX-License-Identifier: MIT */
/*
 * netproxy/ — the needles a response is scanned for (scrub.c builds them,
 * scan.c matches them): private to those two files.
 */
#ifndef RINGFENCE_NETPROXY_SCRUB_H
#define RINGFENCE_NETPROXY_SCRUB_H

#include <stdbool.h>
#include <stdint.h>

#include "netproxy_internal.h"

/* How a needle's raw bytes are read: as they are (a secret holding '%' or
 * '\\', its twin), one level of escapes (a secret holding '%': no %25
 * nesting), one level with %25 nesting (holding '\\'), or two levels (the
 * rest).  The needles read one way share one decoder in a scan (scan.c). */
enum { RD_RAW = 0, RD_ONE, RD_NEST, RD_DEEP, NX_READERS };

struct needle {
	char *bytes;
	uint32_t len;
	uint32_t *fail; /* KMP: the longest proper border of bytes[0..i) */
	bool b64;	/* '-' and '_' count as '+' and '/' */
	bool raw;	/* no decoding (a secret holding '%' or '\\' itself) */
	uint8_t rd;	/* RD_*: how it is read */
	bool kept;	/* a Basic value the client sent (nx_scrub_with()): its
			   opening is the client's, so it begins no anchored
			   parse (scan.c) */
	unsigned cred;
};

struct nx_scrub {
	const struct nx_cred *creds;
	size_t n_creds;
	struct needle *needles;
	size_t n;
	uint32_t syms;		       /* the needles' lengths, summed */
	uint32_t *order;	       /* needles' indices, grouped by reader: */
	uint32_t from[NX_READERS + 1]; /* reader RD's are order[from[RD]..from[RD + 1]) */
	size_t hold_max;
	unsigned refs;		 /* its owner's and each scan's: a scan outlives a refresh */
	bool start[256];	 /* bytes a match can begin with */
	uint8_t pair[65536 / 8]; /* pairs of bytes a match can begin with */
};

static inline bool is_pair(const struct nx_scrub *s, unsigned char a, unsigned char b)
{
	unsigned k = (unsigned)a << 8 | b;

	return s->pair[k >> 3] & (1u << (k & 7));
}

/* Percent-encoding levels decoded (%2F, %252F, %25252F): a URL quoted in
 * another's query, and that one quoted again. */
#define NX_PCT_DEPTH 3

#endif
