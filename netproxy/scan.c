/* SPDX-License-Identifier: MIT */
/*
 * The response scan: scrub.c's needles matched over a stream of response
 * bytes, through its framing (chunked, WebSocket).  See scrub.c for what is
 * looked for and why.
 *
 * What is delivered, and when, must not depend on what the bytes are: a
 * scan that held back only a partial match would tell the command, through
 * any echo, which of its guesses is a prefix of the secret (the echo that
 * waits), a character per round trip.  So every stream keeps back its last
 * hold_max bytes (the widest a needle can be in any encoding, less one:
 * any partial match lies within them) whatever they are, and lets them go
 * when more bytes come, at a framing end the client sees anyway (a chunk's
 * end, a WebSocket message's), or at the stream's end.  A match goes on
 * across a framing end (its state is kept), so a secret split there is
 * still cut when it completes, but the part before the end has gone out.
 *
 * Escapes are read one way by a needle's own parse, from the stream's
 * start: "%de" is one symbol there, 0xDE.  A match may begin inside such an
 * escape, though: "%deadbeef" holds the secret "deadbeef" after a stray
 * '%', which the sandbox can write before a placeholder for an echoing
 * upstream to send back.  Inside a match a needle's escapes can only be
 * read one way, as escapes (a literal '%' or '\' is none of its bytes;
 * a secret holding one has a twin needle read raw, and a secret both
 * raw and escaped around such a byte is not looked for), so a match is
 * found by the parse that begins where it begins: every position
 * the needle's parse took into an escape, and that can begin the needle,
 * starts a parse anchored there (struct match with ANCHORED: no KMP
 * fall-back, it matches from its start or ends).  A few are alive at once
 * at most, unless the text is made to keep many prefixes of a secret open;
 * when NX_ANCHORS are, the stream is cut and a head refused (-ELOOP).
 *
 * A secret without '%' or '\' (nd->deep) is read at two levels: an echo
 * may quote again what was already written once (a JSON value inside JSON,
 * "\\\/"; inside a URL, "%5C%2F"; every character percent-encoded twice,
 * "%25%32%46").  The outer level decodes the raw bytes, the inner one what
 * the outer hands it, each greedily.  Inside a match, a '%' or '\' at
 * either level is an escape's (the secret holds neither, and a '%' left as
 * it is by the outer writing decodes the same taken at either level), so
 * the reading from a match's start is the greedy one, and a match that
 * begins inside an escape of either level is found by an anchored parse.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scrub.h"

/* An escape being read, at one level of encoding. */
struct esc {
	uint8_t kind;  /* ESC_* */
	uint8_t np;    /* its raw characters so far */
	uint8_t depth; /* percent levels under way beyond the first (%25...) */
	char pend[6];  /* "%X", "\\", "\\u00X" */
	uint32_t ppos[6];
};

/* One needle's progress in one symbol stream. */
struct match {
	uint32_t j;    /* symbols matched */
	uint32_t head; /* ring start in pos[] */
	uint32_t *pos; /* where each matched symbol's raw bytes began */
	/* [0] the escapes of the secret's own writing; [1] those of a second
	 * writing around it (JSON quoted in JSON or in a URL: \\\/, %5C%2F) */
	struct esc e[2];
	bool anchored; /* a parse begun at START (pos unused), alive while LIVE */
	bool live;
	uint32_t start;
};

/* Anchored parses per needle and symbol stream. */
#define NX_ANCHORS 8

enum { CH_SIZE = 0, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF, CH_TRAILER };
enum { WS_B0 = 0, WS_B1, WS_LEN, WS_MASK, WS_DATA };

struct nx_scan {
	const struct nx_scrub *s;
	struct match *m[2]; /* [0] the data, [1] WebSocket control frames */
	struct match *a[2]; /* anchored parses: NX_ANCHORS per needle, made on need */
	uint32_t *idx[2];   /* the alive ones' places in a[], LIVE of them */
	unsigned live[2];
	uint32_t *pool;
	enum nx_frame frame;
	uint32_t fed;	   /* raw bytes fed, modulo 2^32 (differences stay small) */
	uint64_t total;	   /* raw bytes fed, all of them */
	uint64_t released; /* the last framing end: what is before it may go */
	const struct nx_cred *hit;
	uint32_t hit_start;
	bool overflow; /* too many anchored parses at once, or no memory for them */
	bool nomem;
	bool busy[2]; /* a set has a partial match */
	/* chunked */
	int ch;
	uint64_t ch_left;
	/* WebSocket */
	int ws;
	bool ws_ctl;
	unsigned ws_need, ws_got;
	uint64_t ws_left;
	uint8_t ws_mask[4];
	unsigned ws_mi;
	bool ws_masked;
	bool ws_in_msg; /* a fragmented message is open: its end is not yet */
	/* what is held back */
	char *carry;
	size_t carry_len, carry_cap;
};

enum { ESC_NONE = 0, ESC_PCT, ESC_BSL, ESC_UNI };

/* ---- matching ---------------------------------------------------------- */

/* One decoded symbol whose raw bytes began at POS.  True on a whole match. */
static bool kmp_push(const struct needle *nd, struct match *m, char sym, uint32_t pos)
{
	if (nd->b64)
		sym = sym == '-' ? '+' : sym == '_' ? '/' : sym;
	if (m->anchored) {
		/* from its start or not at all: no fall-back */
		if (!m->live || nd->bytes[m->j] != sym) {
			m->live = false;
			return false;
		}
		return ++m->j == nd->len;
	}
	while (m->j > 0 && nd->bytes[m->j] != sym) {
		uint32_t k = nd->fail[m->j];
		m->head = (m->head + (m->j - k)) % nd->len;
		m->j = k;
	}
	if (nd->bytes[m->j] != sym)
		return false;
	if (m->j == 0)
		m->head = 0;
	m->pos[(m->head + m->j) % nd->len] = pos;
	m->j++;
	return m->j == nd->len;
}

static bool found(struct nx_scan *sc, const struct needle *nd, uint32_t start)
{
	sc->hit = &sc->s->creds[nd->cred];
	sc->hit_start = start;
	return true;
}

/* Whether C goes into the escape E has under way (dec_push's rules): a
 * position a match may begin at that the parse reading E does not see. */
static bool into_escape(const struct esc *e, char c)
{
	switch (e->kind) {
	case ESC_PCT:
	case ESC_UNI:
		return hexval((unsigned char)c) >= 0;
	case ESC_BSL:
		return c == 'u' || c == '/' || c == '\\' || c == '"';
	case ESC_NONE:
	default:
		return false;
	}
}

/* Whether the needle can begin with C: its first byte (either base64
 * alphabet) or an escape's first character. */
static bool can_begin(const struct needle *nd, char c)
{
	char f = nd->bytes[0];

	if (c == f || c == '%' || c == '\\')
		return true;
	return nd->b64 && ((f == '+' && c == '-') || (f == '/' && c == '_'));
}

/* A parse of needle I anchored at POS, in set SET: false when NX_ANCHORS
 * are alive already (or no memory for them). */
static bool anchor_new(struct nx_scan *sc, int set, size_t i, uint32_t pos, struct match **ret)
{
	struct match *a;

	if (!sc->a[set])
		sc->a[set] = calloc(sc->s->n * NX_ANCHORS, sizeof(struct match));
	if (!sc->idx[set])
		sc->idx[set] = calloc(sc->s->n * NX_ANCHORS, sizeof(uint32_t));
	if (!sc->a[set] || !sc->idx[set]) {
		sc->nomem = true;
		return false;
	}
	a = &sc->a[set][i * NX_ANCHORS];
	for (size_t k = 0; k < NX_ANCHORS; k++)
		if (!a[k].live) {
			a[k] = (struct match){.anchored = true, .live = true, .start = pos};
			sc->idx[set][sc->live[set]++] = (uint32_t)(i * NX_ANCHORS + k);
			*ret = &a[k];
			return true;
		}
	return false;
}

static bool dec_push(struct nx_scan *sc, int set, size_t i, struct match *m, int lv, char c,
		     uint32_t pos);

/* C, whose raw bytes began at POS, read at level LV: to the level below,
 * or a symbol.  True on a whole match (sc->hit). */
static bool emit(struct nx_scan *sc, int set, size_t i, struct match *m, int lv, char c,
		 uint32_t pos)
{
	const struct needle *nd = &sc->s->needles[i];

	if (lv > 0)
		return dec_push(sc, set, i, m, lv - 1, c, pos);
	if (!kmp_push(nd, m, c, pos))
		return false;
	return found(sc, nd, m->anchored ? m->start : m->pos[m->head % nd->len]);
}

/* The escape under way at level LV was none after all: its characters as
 * they are. */
static bool literal(struct nx_scan *sc, int set, size_t i, struct match *m, int lv)
{
	struct esc *e = &m->e[lv];
	uint8_t n = e->np;

	e->kind = ESC_NONE;
	e->np = 0;
	for (uint8_t k = 0; k < n; k++)
		if (emit(sc, set, i, m, lv, e->pend[k], e->ppos[k]))
			return true;
	return false;
}

/* The escape E reads is whole: V, begun where it began. */
static bool decoded(struct nx_scan *sc, int set, size_t i, struct match *m, int lv, char v)
{
	struct esc *e = &m->e[lv];

	e->kind = ESC_NONE;
	e->np = 0;
	return emit(sc, set, i, m, lv, v, e->ppos[0]);
}

/*
 * C, a character at level LV of needle I's parse M, through that level's
 * decoder: percent escapes (%41, any hex case), and the JSON escapes a
 * secret can come back in from an echoing API (\/, \\, \", \u0041).  A
 * needle without '%' or '\\' is read at two levels (nd->deep): the
 * outer one (LV 1) the raw bytes, its output the inner one's (LV 0), so
 * that a JSON value quoted in JSON or in a URL (\\\/, %5C%2F) or every
 * character percent-encoded twice (%25%32%46) is read.  The stream's
 * own parse (not anchored) starts an anchored one wherever, at either
 * level, a character goes into an escape and can begin the needle.  True
 * on a whole match (sc->hit), or when more anchored parses would be
 * needed than are kept (sc->overflow).
 */
static bool dec_push(struct nx_scan *sc, int set, size_t i, struct match *m, int lv, char c,
		     uint32_t pos)
{
	const struct needle *nd = &sc->s->needles[i];
	struct esc *e = &m->e[lv];

	if (nd->raw)
		return emit(sc, set, i, m, 0, c, pos);
	/* a match may begin here, inside the escape this parse reads */
	if (!m->anchored && e->np && into_escape(e, c) && can_begin(nd, c)) {
		struct match *a;
		if (!anchor_new(sc, set, i, pos, &a)) {
			sc->overflow = true;
			return found(sc, nd, e->ppos[0]);
		}
		if (dec_push(sc, set, i, a, lv, c, pos))
			return true;
		if (!a->live)
			sc->live[set]--; /* (the last in the list) */
	}
	switch (e->kind) {
	case ESC_PCT:
		if (hexval((unsigned char)c) >= 0) {
			if (e->np == 1) {
				e->pend[e->np] = c;
				e->ppos[e->np++] = pos;
				return false;
			}
			char v = (char)(hexval((unsigned char)e->pend[1]) * 16 +
					hexval((unsigned char)c));
			/* %25: the '%' of an escape quoted once more (%252F),
			 * which begins where its first level began */
			if (v == '%' && lv == 0 && nd->nest && e->depth + 1 < NX_PCT_DEPTH) {
				e->depth++;
				e->np = 1;
				return false;
			}
			return decoded(sc, set, i, m, lv, v);
		}
		if (literal(sc, set, i, m, lv))
			return true;
		break;
	case ESC_BSL:
		if (c == 'u') {
			e->kind = ESC_UNI;
			e->pend[e->np] = c;
			e->ppos[e->np++] = pos;
			return false;
		}
		if (c == '/' || c == '\\' || c == '"')
			return decoded(sc, set, i, m, lv, c);
		if (literal(sc, set, i, m, lv))
			return true;
		break;
	case ESC_UNI:
		if (hexval((unsigned char)c) >= 0) {
			int v = 0;
			e->pend[e->np] = c;
			e->ppos[e->np++] = pos;
			if (e->np < 6)
				return false;
			for (int k = 2; k < 6; k++)
				v = v * 16 + hexval((unsigned char)e->pend[k]);
			if (v < 0x80)
				return decoded(sc, set, i, m, lv, (char)v);
			return literal(sc, set, i, m, lv); /* not a byte of an ASCII secret */
		}
		if (literal(sc, set, i, m, lv))
			return true;
		break;
	case ESC_NONE:
	default:
		break;
	}
	if (c == '%' || c == '\\') {
		e->depth = 0;
		e->kind = c == '%' ? ESC_PCT : ESC_BSL;
		e->pend[0] = c;
		e->ppos[0] = pos;
		e->np = 1;
		return false;
	}
	return emit(sc, set, i, m, lv, c, pos);
}

/* The level a needle's raw bytes are read at. */
static int top(const struct needle *nd)
{
	return nd->deep ? 1 : 0;
}

static void reset_matches(const struct nx_scrub *s, struct match *m)
{
	for (size_t i = 0; i < s->n; i++) {
		m[i].j = 0;
		m[i].e[0].kind = m[i].e[1].kind = ESC_NONE;
		m[i].e[0].np = m[i].e[1].np = 0;
	}
}

static void reset_all(struct nx_scan *sc)
{
	reset_matches(sc->s, sc->m[0]);
	reset_matches(sc->s, sc->m[1]);
	for (int set = 0; set < 2; set++) {
		for (unsigned q = 0; q < sc->live[set]; q++)
			sc->a[set][sc->idx[set][q]].live = false;
		sc->live[set] = 0;
	}
	sc->busy[0] = sc->busy[1] = false;
}

/* The anchored parses of set SET, fed C: true on a whole match.  Only
 * the alive ones are gone through (those that end are taken out of the
 * list): text full of escapes keeps a few alive among hundreds of slots. */
static bool anchored(struct nx_scan *sc, int set, char c, uint32_t pos)
{
	const struct nx_scrub *s = sc->s;
	uint32_t *idx = sc->idx[set];
	unsigned keep = 0, n = sc->live[set];

	for (unsigned q = 0; q < n; q++) {
		uint32_t k = idx[q];
		struct match *a = &sc->a[set][k];
		size_t i = k / NX_ANCHORS;
		if (dec_push(sc, set, i, a, top(&s->needles[i]), c, pos)) {
			/* the list stays whole for reset_all() */
			memmove(idx + keep, idx + q, (n - q) * sizeof(*idx));
			sc->live[set] = keep + (n - q);
			return true;
		}
		if (a->live)
			idx[keep++] = k;
	}
	sc->live[set] = keep;
	return false;
}

/* A symbol of set SET: true when it completes a secret (sc->hit), or when
 * it would begin more anchored parses than are kept (sc->overflow, taken
 * for a match: the stream is cut, a head refused). */
static bool sym(struct nx_scan *sc, int set, char c, uint32_t pos)
{
	const struct nx_scrub *s = sc->s;
	struct match *m = sc->m[set];
	bool busy = false;

	if (sc->live[set] && anchored(sc, set, c, pos))
		return true;
	for (size_t i = 0; i < s->n; i++) {
		if (dec_push(sc, set, i, &m[i], top(&s->needles[i]), c, pos))
			return true;
		busy |= m[i].j || m[i].e[0].np || m[i].e[1].np;
	}
	/* (what is skipped unread must be no anchored parse's either) */
	sc->busy[set] = busy || sc->live[set];
	return false;
}

/* Where a match can begin next in IN[I..N) when none is under way: N
 * when nowhere.  Bytes that cannot begin one are skipped two at a time by
 * their pair; the last byte is kept when it can begin one (a stream's
 * match may go on in its next piece). */
static size_t next_start(const struct nx_scrub *s, const unsigned char *in, size_t i, size_t n)
{
	while (i + 1 < n && !is_pair(s, in[i], in[i + 1]))
		i++;
	if (i + 1 == n && !s->start[in[i]])
		i++;
	return i;
}

/* ---- framing ------------------------------------------------------------ */

/* A WebSocket frame ends at AT: what came before it may go, at a message's
 * end (a client is handed messages, not the fragments of one; a control
 * frame between messages ends one of its own). */
static void ws_end(struct nx_scan *sc, uint64_t at)
{
	sc->ws = WS_B0;
	if (!sc->ws_in_msg)
		sc->released = at;
}

/* Feeds IN's bytes through the framing: 0, -EACCES on a secret, -EPROTO on
 * a stream that cannot be checked.
 * Long: the framings' state machines in one switch, so that a match
 * spans frames.
 */
static int walk(struct nx_scan *sc, const unsigned char *in, size_t n)
{
	const struct nx_scrub *s = sc->s;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = in[i];
		uint32_t pos = sc->fed + (uint32_t)i;
		switch (sc->frame) {
		case NX_FRAME_PLAIN:
			/* the common case: skip what cannot begin a match,
			 * two bytes at a time (the last one alone: a match
			 * may go on in the next call) */
			if (!sc->busy[0]) {
				i = next_start(s, in, i, n);
				if (i == n)
					break;
				c = in[i];
				pos = sc->fed + (uint32_t)i;
			}
			if (sym(sc, 0, (char)c, pos))
				return -EACCES;
			break;
		case NX_FRAME_CHUNKED:
			switch (sc->ch) {
			case CH_SIZE:
				if (hexval(c) >= 0) {
					sc->ch_left = sc->ch_left * 16 + (uint64_t)hexval(c);
				} else if (c == '\r') {
					sc->ch = CH_SIZE_LF;
				} else if (c == '\n') {
					sc->ch = sc->ch_left ? CH_DATA : CH_TRAILER;
				} else {
					sc->ch = CH_EXT; /* ';' and what follows: text */
					if (sym(sc, 0, (char)c, pos))
						return -EACCES;
				}
				break;
			case CH_EXT:
				if (c == '\r' || c == '\n') {
					sc->ch = c == '\n' ? (sc->ch_left ? CH_DATA : CH_TRAILER)
							   : CH_SIZE_LF;
				} else if (sym(sc, 0, (char)c, pos)) {
					return -EACCES;
				}
				break;
			case CH_SIZE_LF:
				sc->ch = sc->ch_left ? CH_DATA : CH_TRAILER;
				break;
			case CH_DATA: {
				size_t take = n - i < sc->ch_left ? n - i : (size_t)sc->ch_left;
				for (size_t k = 0; k < take; k++)
					if (sym(sc, 0, (char)in[i + k], pos + (uint32_t)k))
						return -EACCES;
				sc->ch_left -= take;
				i += take - 1;
				if (sc->ch_left == 0) {
					sc->ch = CH_DATA_CR;
					sc->released = sc->total + i + 1; /* a chunk's end */
				}
				break;
			}
			case CH_DATA_CR:
				sc->ch = c == '\r' ? CH_DATA_LF : CH_SIZE;
				if (c == '\r')
					sc->released = sc->total + i + 1;
				break;
			case CH_DATA_LF:
				sc->ch = CH_SIZE;
				sc->released = sc->total + i + 1;
				break;
			case CH_TRAILER:
			default:
				if (sym(sc, 0, (char)c, pos))
					return -EACCES;
				break;
			}
			break;
		case NX_FRAME_WEBSOCKET:
			switch (sc->ws) {
			case WS_B0:
				/* RSV bits: a compressed or extended frame
				 * cannot be read here */
				if (c & 0x70)
					return -EPROTO;
				sc->ws_ctl = (c & 0x08) != 0;
				if (!sc->ws_ctl)
					sc->ws_in_msg = (c & 0x80) == 0; /* not FIN */
				sc->ws = WS_B1;
				break;
			case WS_B1:
				sc->ws_masked = (c & 0x80) != 0;
				sc->ws_left = c & 0x7f;
				sc->ws_got = 0;
				sc->ws_mi = 0;
				if (sc->ws_left >= 126) {
					sc->ws_need = sc->ws_left == 126 ? 2 : 8;
					sc->ws_left = 0;
					sc->ws = WS_LEN;
				} else {
					sc->ws = sc->ws_masked ? WS_MASK : WS_DATA;
				}
				if (sc->ws == WS_DATA && sc->ws_left == 0)
					ws_end(sc, sc->total + i + 1);
				break;
			case WS_LEN:
				sc->ws_left = sc->ws_left << 8 | c;
				if (++sc->ws_got == sc->ws_need) {
					sc->ws_got = 0;
					sc->ws = sc->ws_masked ? WS_MASK : WS_DATA;
					if (sc->ws == WS_DATA && sc->ws_left == 0)
						ws_end(sc, sc->total + i + 1);
				}
				break;
			case WS_MASK:
				sc->ws_mask[sc->ws_got++] = c;
				if (sc->ws_got == 4 && sc->ws_left)
					sc->ws = WS_DATA;
				else if (sc->ws_got == 4)
					ws_end(sc, sc->total + i + 1);
				break;
			case WS_DATA:
			default: {
				char d =
				    (char)(sc->ws_masked ? c ^ sc->ws_mask[sc->ws_mi++ & 3] : c);
				/* control frames come between a message's
				 * fragments: a stream of their own */
				if (sym(sc, sc->ws_ctl ? 1 : 0, d, pos))
					return -EACCES;
				if (--sc->ws_left == 0)
					ws_end(sc, sc->total + i + 1);
				break;
			}
			}
			break;
		default:
			return -EPROTO;
		}
	}
	return 0;
}

int nx_scan_new(const struct nx_scrub *s, struct nx_scan **ret)
{
	struct nx_scan *sc = calloc(1, sizeof(*sc));

	if (!sc)
		return -ENOMEM;
	sc->s = s;
	((struct nx_scrub *)s)->refs++; /* released by nx_scan_free() */
	sc->m[0] = calloc(2 * (s->n ? s->n : 1), sizeof(struct match));
	sc->pool = calloc(2 * (size_t)(s->syms ? s->syms : 1), sizeof(uint32_t));
	sc->carry_cap = s->hold_max ? s->hold_max : 1;
	sc->carry = malloc(sc->carry_cap);
	if (!sc->m[0] || !sc->pool || !sc->carry) {
		nx_scan_free(sc);
		return -ENOMEM;
	}
	sc->m[1] = sc->m[0] + s->n;
	for (int set = 0, off = 0; set < 2; set++)
		for (size_t i = 0; i < s->n; i++) {
			sc->m[set][i].pos = sc->pool + off;
			off += (int)s->needles[i].len;
		}
	*ret = sc;
	return 0;
}

void nx_scan_reset(struct nx_scan *sc, enum nx_frame f)
{
	reset_all(sc);
	sc->frame = f;
	sc->hit = NULL;
	sc->overflow = sc->nomem = false;
	sc->ch = CH_SIZE;
	sc->ch_left = 0;
	sc->ws = WS_B0;
	sc->ws_in_msg = false;
	sc->carry_len = 0;
	sc->total = sc->released = 0;
}

void nx_scan_free(struct nx_scan *sc)
{
	if (!sc)
		return;
	if (sc->carry)
		explicit_bzero(sc->carry, sc->carry_cap);
	free(sc->carry);
	free(sc->pool);
	free(sc->m[0]);
	for (int set = 0; set < 2; set++) {
		free(sc->a[set]);
		free(sc->idx[set]);
	}
	nx_scrub_free((struct nx_scrub *)sc->s);
	free(sc);
}

static bool same_needle(const struct needle *a, const struct needle *b)
{
	return a->cred == b->cred && a->len == b->len && a->b64 == b->b64 && a->raw == b->raw &&
	       memcmp(a->bytes, b->bytes, a->len) == 0;
}

/* The anchored parses of set SET for S's needles: those of needles the
 * scan had already go on.  0, or -ENOMEM. */
static int rebase_anchors(struct nx_scan *sc, const struct nx_scrub *s, int set, struct match **ret,
			  uint32_t **ret_idx)
{
	const struct nx_scrub *old = sc->s;
	struct match *a;

	*ret = NULL;
	*ret_idx = NULL;
	if (!sc->live[set])
		return 0;
	a = calloc((s->n ? s->n : 1) * NX_ANCHORS, sizeof(*a));
	*ret_idx = calloc((s->n ? s->n : 1) * NX_ANCHORS, sizeof(uint32_t));
	if (!a || !*ret_idx) {
		free(a);
		free(*ret_idx);
		*ret_idx = NULL;
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->n; i++)
		for (size_t k = 0; k < old->n; k++)
			if (same_needle(&s->needles[i], &old->needles[k])) {
				memcpy(&a[i * NX_ANCHORS], &sc->a[set][k * NX_ANCHORS],
				       NX_ANCHORS * sizeof(*a));
				break;
			}
	*ret = a;
	return 0;
}

int nx_scan_rebase(struct nx_scan *sc, const struct nx_scrub *s)
{
	const struct nx_scrub *old = sc->s;
	struct match *m = calloc(2 * (s->n ? s->n : 1), sizeof(struct match));
	uint32_t *pool = calloc(2 * (size_t)(s->syms ? s->syms : 1), sizeof(uint32_t));
	size_t cap = s->hold_max > sc->carry_cap ? s->hold_max : sc->carry_cap;
	char *carry = malloc(cap);
	struct match *a[2] = {NULL, NULL};
	uint32_t *idx[2] = {NULL, NULL};

	if (!m || !pool || !carry || rebase_anchors(sc, s, 0, &a[0], &idx[0]) < 0 ||
	    rebase_anchors(sc, s, 1, &a[1], &idx[1]) < 0) {
		free(m);
		free(pool);
		free(carry);
		for (int set = 0; set < 2; set++) {
			free(a[set]);
			free(idx[set]);
		}
		return -ENOMEM;
	}
	for (int set = 0; set < 2; set++) {
		free(sc->a[set]);
		free(sc->idx[set]);
		sc->a[set] = a[set];
		sc->idx[set] = idx[set];
		sc->live[set] = 0;
		for (size_t k = 0; a[set] && k < s->n * NX_ANCHORS; k++)
			if (a[set][k].live)
				idx[set][sc->live[set]++] = (uint32_t)k;
	}
	memcpy(carry, sc->carry, sc->carry_len);
	explicit_bzero(sc->carry, sc->carry_cap);
	free(sc->carry);
	sc->carry = carry;
	sc->carry_cap = cap;
	for (int set = 0, off = 0; set < 2; set++) {
		bool busy = false;
		for (size_t i = 0; i < s->n; i++) {
			struct match *nm = &m[set * s->n + i];
			nm->pos = pool + off;
			off += (int)s->needles[i].len;
			/* a needle it had already: its partial match goes on */
			for (size_t k = 0; k < old->n; k++) {
				const struct match *om = &sc->m[set][k];
				uint32_t *pos = nm->pos;
				if (!same_needle(&s->needles[i], &old->needles[k]))
					continue;
				*nm = *om;
				nm->pos = pos;
				memcpy(pos, om->pos, s->needles[i].len * sizeof(*pos));
				break;
			}
			busy |= nm->j || nm->e[0].np || nm->e[1].np;
		}
		sc->busy[set] = busy || sc->live[set];
	}
	free(sc->pool);
	free(sc->m[0]);
	sc->m[0] = m;
	sc->m[1] = m + s->n;
	sc->pool = pool;
	sc->s = nx_scrub_ref(s);
	nx_scrub_free((struct nx_scrub *)old);
	return 0;
}

size_t nx_scan_hold_max(const struct nx_scan *sc)
{
	return sc->s->hold_max;
}

const struct nx_scrub *nx_scan_scrub(const struct nx_scan *sc)
{
	return sc->s;
}

size_t nx_scan_held(const struct nx_scan *sc)
{
	return sc->carry_len;
}

const struct nx_cred *nx_scan_hit(const struct nx_scan *sc)
{
	return sc->hit;
}

/* What a scan that could not follow every beginning of a secret says. */
static int overflowed(const struct nx_scan *sc)
{
	return sc->nomem ? -ENOMEM : -ELOOP;
}

int nx_scan_feed(struct nx_scan *sc, const char *in, size_t n, char *out, size_t *out_len)
{
	uint64_t since;
	size_t total, keep;
	int r;

	*out_len = 0;
	if (sc->hit)
		return sc->overflow ? overflowed(sc) : -EACCES;
	r = walk(sc, (const unsigned char *)in, n);
	sc->fed += (uint32_t)n;
	sc->total += n;
	if (r < 0)
		return r == -EACCES && sc->overflow ? overflowed(sc) : r;
	/* held: the last hold_max bytes, or those since the last framing
	 * end when fewer, whatever they are.  A partial match wider than that
	 * (a secret spread over framing, or one over ~220 bytes) is not held
	 * whole: its start goes, and the stream is cut when it completes */
	since = sc->total - sc->released;
	total = sc->carry_len + n;
	keep = sc->s->hold_max;
	if (keep > since)
		keep = (size_t)since;
	if (keep > total)
		keep = total;
	/* OUT = carry + IN, minus the last KEEP bytes, which become the carry */
	if (keep >= n) {
		size_t from_carry = total - keep; /* bytes of the old carry that go */
		memcpy(out, sc->carry, from_carry);
		memmove(sc->carry, sc->carry + from_carry, sc->carry_len - from_carry);
		memcpy(sc->carry + sc->carry_len - from_carry, in, n);
		*out_len = from_carry;
	} else {
		memcpy(out, sc->carry, sc->carry_len);
		memcpy(out + sc->carry_len, in, n - keep);
		memcpy(sc->carry, in + n - keep, keep);
		*out_len = total - keep;
	}
	sc->carry_len = keep;
	return 0;
}

size_t nx_scan_flush(struct nx_scan *sc, char *out)
{
	size_t n = sc->carry_len;

	memcpy(out, sc->carry, n);
	explicit_bzero(sc->carry, n);
	sc->carry_len = 0;
	reset_all(sc);
	return n;
}

/* ---- heads ------------------------------------------------------------------ */

int nx_scrub_head(const struct nx_scrub *s, const char *in, size_t n, char **ret, size_t *ret_len,
		  unsigned *hits)
{
	struct nx_scan *sc;
	char *out = NULL;
	size_t len = 0, cap = 0;
	int r;

	*ret = NULL;
	*ret_len = 0;
	*hits = 0;
	r = nx_scan_new(s, &sc);
	if (r < 0)
		return r;
	nx_scan_reset(sc, NX_FRAME_PLAIN);
	/* symbol positions are offsets into IN; a match's bytes are replaced
	 * by its credential's placeholder and the scan goes on after it;
	 * what cannot begin a match is skipped as a body's plain text is */
	for (size_t i = 0; i < n; i++) {
		if (!sc->busy[0] && (i = next_start(s, (const unsigned char *)in, i, n)) == n)
			break;
		if (!sym(sc, 0, in[i], (uint32_t)i))
			continue;
		if (sc->overflow) {
			r = overflowed(sc); /* no telling where a secret began: refused */
			break;
		}
		const struct nx_cred *cr = sc->hit;
		size_t from = sc->hit_start, need;
		if (!out) {
			cap = n + 256 + 64 * cr->placeholder_len;
			out = malloc(cap);
			if (!out) {
				r = -ENOMEM;
				break;
			}
		}
		/* copy what came since the last replacement, up to the match */
		need = len + (from > *ret_len ? from - *ret_len : 0) + cr->placeholder_len;
		if (need > cap) {
			char *o = realloc(out, need + n);
			if (!o) {
				r = -ENOMEM;
				break;
			}
			out = o;
			cap = need + n;
		}
		if (from > *ret_len) {
			memcpy(out + len, in + *ret_len, from - *ret_len);
			len += from - *ret_len;
		}
		memcpy(out + len, cr->placeholder, cr->placeholder_len);
		len += cr->placeholder_len;
		*ret_len = i + 1; /* (the input consumed so far) */
		*hits |= 1u << (cr - s->creds);
		sc->hit = NULL;
		reset_all(sc);
	}
	if (r == 0 && out) {
		size_t rest = n - *ret_len;
		if (len + rest > cap) {
			char *o = realloc(out, len + rest);
			if (!o)
				r = -ENOMEM;
			else
				out = o;
		}
		if (r == 0) {
			memcpy(out + len, in + *ret_len, rest);
			len += rest;
		}
	}
	nx_scan_free(sc);
	if (r < 0 || !out) {
		free(out);
		*ret_len = 0;
		return r;
	}
	*ret = out;
	*ret_len = len;
	return 1;
}
