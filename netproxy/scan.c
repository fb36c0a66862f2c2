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
 * Escapes are read one way by the stream's own parse, from its start:
 * "%de" is one symbol there, 0xDE.  The needles read the same way (a
 * reader: scrub.h) share that parse's decoder, each with its own KMP over
 * the symbols.  A match may begin inside such an escape, though:
 * "%deadbeef" holds the secret "deadbeef" after a stray '%', which the
 * sandbox can write before a placeholder for an echoing upstream to send
 * back.  Inside a match a needle's escapes can only be read one way, as
 * escapes (a literal '%' or '\' is none of its bytes; a secret holding
 * one has a twin needle read raw, and a secret both raw and escaped
 * around such a byte is not looked for), so a match is found by the parse
 * that begins where it begins: every position the stream's parse took
 * into an escape, and that can begin one of the reader's needles, starts
 * a parse anchored there for all of them (struct anchor: no KMP fall-back,
 * each needle matches from its start or is dropped).  A few are alive at
 * once, unless the text is made to keep many prefixes of a secret open;
 * the table grows to hold them all.  It once held 8 a reader and cut the
 * stream past them: an outside review made that cut an oracle (seven
 * parses kept open by Basic values of its own making, the eighth on the
 * secret's base64, a ninth begun by the guessed character: a cut said the
 * guess was right, and the secret came out a character per probe).  Now
 * what is cut depends on whole matches only: a parse lives at most as
 * many raw bytes as its longest needle can be written in
 * (NX_ANCHOR_WMAX a symbol), at most two begin at a byte (a level each),
 * and the table is allowed twice that window (anchor_max()), so the
 * limit (-ELOOP: the stream cut, a head refused) is never reached; only
 * a failed allocation is (-ENOMEM).  The Basic values a connection's
 * client sent (struct needle's kept) begin no anchored parse: their
 * opening is the client's choice, which would let it keep as many open
 * as it liked (memory and time); the stream's own parse still reads
 * them, and the secret's base64 cores inside them are needles of their
 * own.
 *
 * A secret without '%' or '\' (RD_DEEP) is read at two levels: an echo
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
};

/* A parse anchored at START, where a match may begin inside an escape the
 * stream's own parse read, for every needle read one way (a reader) at
 * once: its decoder's levels ([0] the escapes of the secret's own writing;
 * [1] those of a second writing around it, JSON quoted in JSON or in a
 * URL: \\\/, %5C%2F), and each needle's symbols matched from START
 * (NX_DEAD once one was not its next), in sc->aj. */
struct anchor {
	struct esc e[2];
	uint32_t start;
	uint32_t alive; /* needles still matching: the parse is live while any */
	uint8_t breaks; /* the last symbols, when line breaks: how many (gap()) */
	uint8_t rd;	/* the reader whose needles it matches */
};

#define NX_DEAD UINT32_MAX

/* The most raw bytes one symbol of a match takes, line breaks before it
 * included: a symbol of the inner level is at most seven characters of
 * it (%2525XY), each at most six raw bytes of the outer one (\u0041),
 * and a base64 needle passes over two breaks before each symbol, each as
 * wide (126, rounded up).  Bounds the life of an anchored parse. */
#define NX_ANCHOR_WMAX 128

enum { CH_SIZE = 0, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF, CH_TRAILER };
enum { WS_B0 = 0, WS_B1, WS_LEN, WS_MASK, WS_DATA };

struct nx_scan {
	const struct nx_scrub *s;
	struct match *m[2];		  /* [0] the data, [1] WebSocket control frames or
					     chunk extensions */
	struct esc rdr[2][NX_READERS][2]; /* the stream's own parse: a decoder per
					     reader, its levels */
	uint8_t breaks[2][NX_READERS];	  /* and its last symbols, when line breaks:
					     how many (gap()) */
	struct anchor *a[2];		  /* anchored parses: CAP slots, made on need */
	uint32_t *aj[2];		  /* their needles' symbols matched: s->n per slot */
	uint32_t *idx[2];		  /* the alive ones' slots, LIVE of them */
	unsigned live[2];
	unsigned cap[2];
	unsigned hint[2];    /* where the next free slot is looked for */
	unsigned anchor_max; /* what the slots may grow to (anchor_max()) */
	uint32_t *pool;
	enum nx_frame frame;
	uint32_t fed;	   /* raw bytes fed, modulo 2^32 (differences stay small) */
	uint64_t total;	   /* raw bytes fed, all of them */
	uint64_t released; /* the last framing end: what is before it may go */
	const struct nx_cred *hit;
	uint32_t hit_start;
	bool overflow; /* too many anchored parses at once, or no memory for them */
	bool nomem;
	bool busy[2];	     /* a set has a partial match */
	unsigned partial[2]; /* the stream's own KMPs with a symbol matched */
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

/* A decoded symbol as needle ND's bytes have it. */
static char as_sym(const struct needle *nd, char c)
{
	if (nd->b64)
		return c == '-' ? '+' : c == '_' ? '/' : c;
	return c;
}

/* One decoded symbol whose raw bytes began at POS.  True on a whole match. */
static bool kmp_push(const struct needle *nd, struct match *m, char sym, uint32_t pos)
{
	sym = as_sym(nd, sym);
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

/* kmp_push() for the stream's own parse of set SET, keeping count of
 * the needles with a partial match there. */
static bool kmp_main(struct nx_scan *sc, int set, const struct needle *nd, struct match *m, char c,
		     uint32_t pos)
{
	bool was = m->j != 0, whole = kmp_push(nd, m, c, pos);

	sc->partial[set] += (unsigned)(m->j != 0) - (unsigned)was;
	return whole;
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
		return hex_value((unsigned char)c) >= 0;
	case ESC_BSL:
		return c == 'u' || c == '/' || c == '\\' || c == '"' || c == 'n' || c == 'r' ||
		       c == 't';
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

/* Who reads a stream of set SET: the stream's own parse of every needle
 * read the RD way (Q < 0), which share one decoder (sc->rdr), or the
 * parse anchored in slot Q, for the same needles, with a decoder of its
 * own. */
struct reader {
	struct nx_scan *sc;
	int set;
	unsigned rd;
	int q;
};

static struct esc *esc_of(const struct reader *r, int lv)
{
	return r->q >= 0 ? &r->sc->a[r->set][r->q].e[lv] : &r->sc->rdr[r->set][r->rd][lv];
}

/* The level a reader's raw bytes are read at. */
static int top(unsigned rd)
{
	return rd == RD_DEEP ? 1 : 0;
}

/* Room for one more anchored parse in set SET: the slots doubled, up to
 * sc->anchor_max.  0, or -1 (sc->nomem when there was no memory).  Out of
 * line: a first version, inlined and going through the needles twice a
 * parse, scanned plain text a quarter slower (bench/scan.sh). */
static __attribute__((noinline, cold)) int anchors_grow(struct nx_scan *sc, int set)
{
	size_t n = sc->s->n ? sc->s->n : 1;
	unsigned cap = sc->cap[set] ? sc->cap[set] * 2 : 8;
	struct anchor *a;
	uint32_t *aj, *idx;

	if (cap > sc->anchor_max)
		cap = sc->anchor_max;
	if (cap <= sc->cap[set])
		return -1;
	a = realloc(sc->a[set], cap * sizeof(*a));
	if (a)
		sc->a[set] = a;
	aj = a ? realloc(sc->aj[set], (size_t)cap * n * sizeof(*aj)) : NULL;
	if (aj)
		sc->aj[set] = aj;
	idx = aj ? realloc(sc->idx[set], cap * sizeof(*idx)) : NULL;
	if (!idx) {
		sc->nomem = true;
		return -1;
	}
	sc->idx[set] = idx;
	memset(a + sc->cap[set], 0, (cap - sc->cap[set]) * sizeof(*a));
	sc->hint[set] = sc->cap[set];
	sc->cap[set] = cap;
	return 0;
}

/* A parse of reader R's needles anchored at POS, for those that can begin
 * with C: its slot, -1 when none can, or -2 when no slot could be made
 * (sc->anchor_max reached, which a match's width does not allow, or no
 * memory).  A Basic value the client sent begins none (struct needle). */
static int anchor_new(const struct reader *r, char c, uint32_t pos)
{
	struct nx_scan *sc = r->sc;
	const struct nx_scrub *s = sc->s;
	uint32_t *j, alive = 0;
	unsigned q;

	if (sc->live[r->set] == sc->cap[r->set] && anchors_grow(sc, r->set) < 0)
		return sc->anchor_max ? -2 : -1; /* (0: no needle a parse could follow) */
	/* a slot not alive (every alive one is in idx[]): there is one */
	for (q = sc->hint[r->set]; sc->a[r->set][q].alive;)
		q = q + 1 == sc->cap[r->set] ? 0 : q + 1;
	j = sc->aj[r->set] + (size_t)q * s->n;
	for (uint32_t k = s->from[r->rd]; k < s->from[r->rd + 1]; k++) {
		const struct needle *nd = &s->needles[s->order[k]];
		bool can = !nd->kept && can_begin(nd, c);
		j[k] = can ? 0 : NX_DEAD;
		alive += can;
	}
	if (!alive)
		return -1;
	sc->hint[r->set] = q + 1 == sc->cap[r->set] ? 0 : q + 1;
	sc->a[r->set][q] = (struct anchor){.start = pos, .alive = alive, .rd = (uint8_t)r->rd};
	sc->idx[r->set][sc->live[r->set]++] = q;
	return (int)q;
}

/* What the anchored parses of one set may grow to: twice (a level each)
 * the raw bytes a parse of each reader can live, its longest needle
 * written at its widest. */
static unsigned anchor_max(const struct nx_scrub *s)
{
	size_t sum = 0;

	for (unsigned rd = RD_RAW + 1; rd < NX_READERS; rd++) {
		uint32_t len = 0;
		for (uint32_t k = s->from[rd]; k < s->from[rd + 1]; k++) {
			const struct needle *nd = &s->needles[s->order[k]];
			if (!nd->kept && nd->len > len)
				len = nd->len;
		}
		if (len)
			sum += 2 * ((size_t)len + 1) * NX_ANCHOR_WMAX;
	}
	return sum > UINT32_MAX / 2 ? UINT32_MAX / 2 : (unsigned)sum;
}

static bool dec_push(const struct reader *r, int lv, char c, uint32_t pos);

/* Whether V is a line break.  A base64 needle passes over one, or a CRLF,
 * inside a match (gap()), never before its first character nor more than
 * two in a row: a parse anchored at a character that can begin a needle
 * ('n' of a JSON \n) would otherwise stay open over every break that
 * follows, and blank lines in JSON in JSON, or a run of \n, kept more
 * open than the 8 a reader once had (a false refusal an outside review
 * found), and an unbounded number now. */
static bool is_break(char v)
{
	return v == '\n' || v == '\r';
}

/* Whether base64 needle ND passes over symbol V, the BREAKS-th break in a
 * row, having matched J symbols: the line breaks MIME, PEM and the
 * `base64` tool wrap it with, which JSON writes as \n (GitHub's
 * contents).  Found by an outside review: a wrapped base64 of a secret
 * came back whole.  Not blanks, which no encoder writes: each would be a
 * pair that stops the skip in ordinary text (next_start(); plain text
 * scanned 30% slower with them). */
static bool gap(const struct needle *nd, char v, uint32_t j, unsigned breaks)
{
	return nd->b64 && is_break(v) && j > 0 && j != NX_DEAD && breaks <= 2;
}

/* V, whose raw bytes began at POS, decoded at level LV: to the level
 * below, or a symbol to the reader's needles.  True on a whole match
 * (sc->hit). */
static bool emit(const struct reader *r, int lv, char v, uint32_t pos)
{
	struct nx_scan *sc = r->sc;
	const struct nx_scrub *s = sc->s;

	if (lv > 0)
		return dec_push(r, lv - 1, v, pos);
	if (r->q >= 0) {
		/* from its start or not at all: no fall-back */
		struct anchor *g = &sc->a[r->set][r->q];
		uint32_t *j = sc->aj[r->set] + (size_t)r->q * s->n;
		g->breaks = is_break(v) ? (uint8_t)(g->breaks + (g->breaks < 3)) : 0;
		for (uint32_t k = s->from[r->rd]; k < s->from[r->rd + 1] && g->alive; k++) {
			const struct needle *nd = &s->needles[s->order[k]];
			if (j[k] == NX_DEAD || gap(nd, v, j[k], g->breaks))
				continue;
			if (nd->bytes[j[k]] != as_sym(nd, v)) {
				j[k] = NX_DEAD;
				g->alive--;
			} else if (++j[k] == nd->len) {
				return found(sc, nd, g->start);
			}
		}
		return false;
	}
	uint8_t *breaks = &sc->breaks[r->set][r->rd];
	*breaks = is_break(v) ? (uint8_t)(*breaks + (*breaks < 3)) : 0;
	for (uint32_t k = s->from[r->rd]; k < s->from[r->rd + 1]; k++) {
		const struct needle *nd = &s->needles[s->order[k]];
		struct match *m = &sc->m[r->set][s->order[k]];
		if (gap(nd, v, m->j, *breaks))
			continue;
		if (kmp_main(sc, r->set, nd, m, v, pos))
			return found(sc, nd, m->pos[m->head % nd->len]);
	}
	return false;
}

/*
 * The escape under way at level LV was none after all: its characters as
 * they are, and then C (when not null), which ended it, is read afresh.
 * A parse anchored at one of them, at the level below (the stream's own
 * parse had an escape under way there, which that character went into),
 * began in the past: it is handed the characters after its own, and C, as
 * the stream's parse reads them (a JSON "\u0" written in a URL, "%30"
 * then, after "%5C": the match begins at the first '\').
 */
static bool literal(const struct reader *r, int lv, const char *c, uint32_t pos)
{
	struct nx_scan *sc = r->sc;
	struct esc *e = esc_of(r, lv);
	uint8_t n = e->np;
	unsigned mark[7], keep;
	uint32_t *idx;

	e->kind = ESC_NONE;
	e->np = 0;
	mark[0] = sc->live[r->set];
	for (uint8_t k = 0; k < n; k++) {
		if (emit(r, lv, e->pend[k], e->ppos[k]))
			return true;
		mark[k + 1] = sc->live[r->set];
	}
	if (r->q >= 0 || lv == 0 || mark[n] == mark[0])
		return false;
	/* (read after the emits above: a parse they began may have moved the
	 * slots; the parses fed below begin none) */
	idx = sc->idx[r->set];
	for (uint8_t k = 0; k < n; k++)
		for (unsigned l = mark[k]; l < mark[k + 1]; l++) {
			struct reader ra = {sc, r->set, r->rd, (int)idx[l]};
			for (uint8_t j = k + 1; j < n; j++)
				if (emit(&ra, lv, e->pend[j], e->ppos[j]))
					return true;
			if (c && dec_push(&ra, lv, *c, pos))
				return true;
		}
	/* those that ended leave the list */
	keep = mark[0];
	for (unsigned l = mark[0]; l < sc->live[r->set]; l++)
		if (sc->a[r->set][idx[l]].alive)
			idx[keep++] = idx[l];
	sc->live[r->set] = keep;
	return false;
}

/* The escape under way at level LV is whole: V, begun where it began. */
static bool decoded(const struct reader *r, int lv, char v)
{
	struct esc *e = esc_of(r, lv);

	e->kind = ESC_NONE;
	e->np = 0;
	return emit(r, lv, v, e->ppos[0]);
}

/* C at level LV goes into the escape the stream's own parse reads there:
 * a match of any of the reader's needles that can begin with C may begin
 * here, found by a parse anchored at POS.  True on a whole match, or when
 * more would be alive than are kept (sc->overflow). */
static bool anchor_at(const struct reader *r, int lv, char c, uint32_t pos)
{
	struct nx_scan *sc = r->sc;
	struct reader ra = {sc, r->set, r->rd, anchor_new(r, c, pos)};

	if (ra.q == -1)
		return false;
	if (ra.q < 0) {
		/* (a credential to name: the reader's first) */
		sc->overflow = true;
		return found(sc, &sc->s->needles[sc->s->order[sc->s->from[r->rd]]],
			     esc_of(r, lv)->ppos[0]);
	}
	if (dec_push(&ra, lv, c, pos))
		return true;
	if (!sc->a[r->set][ra.q].alive)
		sc->live[r->set]--; /* (the last in the list) */
	return false;
}

/*
 * C, a character at level LV of reader R, through that level's decoder:
 * percent escapes (%41, any hex case), and the JSON escapes a secret can
 * come back in from an echoing API (\/, \\, \", \u0041).  A needle
 * without '%' or '\\' is read at two levels (RD_DEEP): the outer one (LV
 * 1) reads the raw bytes and hands its output to the inner one (LV 0),
 * so that a JSON value quoted in JSON or in a URL (\\\/, %5C%2F) or
 * every character percent-encoded twice (%25%32%46) is read.  The
 * stream's own parse starts an anchored one wherever, at either level, a
 * character goes into an escape.  True on a whole match (sc->hit), or
 * when more anchored parses would be needed than are kept (sc->overflow).
 */
static bool dec_push(const struct reader *r, int lv, char c, uint32_t pos)
{
	struct esc *e = esc_of(r, lv);

	/* a match may begin here, inside the escape this parse reads */
	if (r->q < 0 && e->np && into_escape(e, c) && anchor_at(r, lv, c, pos))
		return true;
	switch (e->kind) {
	case ESC_PCT:
		if (hex_value((unsigned char)c) >= 0) {
			if (e->np == 1) {
				e->pend[e->np] = c;
				e->ppos[e->np++] = pos;
				return false;
			}
			char v = (char)(hex_value((unsigned char)e->pend[1]) * 16 +
					hex_value((unsigned char)c));
			/* %25: the '%' of an escape quoted once more (%252F),
			 * which begins where its first level began */
			if (v == '%' && lv == 0 && r->rd != RD_ONE && e->depth + 1 < NX_PCT_DEPTH) {
				e->depth++;
				e->np = 1;
				return false;
			}
			return decoded(r, lv, v);
		}
		if (literal(r, lv, &c, pos))
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
			return decoded(r, lv, c);
		/* JSON's line breaks (and tab): breaks in base64 (gap()) */
		if (c == 'n' || c == 'r' || c == 't')
			return decoded(r, lv, c == 'n' ? '\n' : c == 'r' ? '\r' : '\t');
		if (literal(r, lv, &c, pos))
			return true;
		break;
	case ESC_UNI:
		if (hex_value((unsigned char)c) >= 0) {
			int v = 0;
			e->pend[e->np] = c;
			e->ppos[e->np++] = pos;
			if (e->np < 6)
				return false;
			for (int k = 2; k < 6; k++)
				v = v * 16 + hex_value((unsigned char)e->pend[k]);
			if (v < 0x80)
				return decoded(r, lv, (char)v);
			return literal(r, lv, NULL, 0); /* not a byte of an ASCII secret */
		}
		if (literal(r, lv, &c, pos))
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
	return emit(r, lv, c, pos);
}

static void reset_all(struct nx_scan *sc)
{
	for (int set = 0; set < 2; set++) {
		for (size_t i = 0; i < sc->s->n; i++)
			sc->m[set][i].j = 0;
		for (unsigned q = 0; q < sc->live[set]; q++)
			sc->a[set][sc->idx[set][q]].alive = 0;
		sc->live[set] = 0;
	}
	memset(sc->rdr, 0, sizeof(sc->rdr));
	sc->busy[0] = sc->busy[1] = false;
	sc->partial[0] = sc->partial[1] = 0;
}

/* The anchored parses of set SET, fed C: true on a whole match.  Only
 * the alive ones are gone through (those that end are taken out of the
 * list). */
static bool anchored(struct nx_scan *sc, int set, char c, uint32_t pos)
{
	uint32_t *idx = sc->idx[set];
	unsigned keep = 0, n = sc->live[set];

	for (unsigned q = 0; q < n; q++) {
		struct reader r = {sc, set, sc->a[set][idx[q]].rd, (int)idx[q]};
		if (dec_push(&r, top(r.rd), c, pos)) {
			/* the list stays whole for reset_all() */
			memmove(idx + keep, idx + q, (n - q) * sizeof(*idx));
			sc->live[set] = keep + (n - q);
			return true;
		}
		if (sc->a[set][idx[q]].alive)
			idx[keep++] = idx[q];
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
	/* a secret holding an escape character, as it is */
	for (uint32_t k = s->from[RD_RAW]; k < s->from[RD_RAW + 1]; k++) {
		const struct needle *nd = &s->needles[s->order[k]];
		struct match *mk = &m[s->order[k]];
		if (kmp_main(sc, set, nd, mk, c, pos))
			return found(sc, nd, mk->pos[mk->head % nd->len]);
	}
	for (unsigned rd = RD_RAW + 1; rd < NX_READERS; rd++) {
		struct reader r = {sc, set, rd, -1};
		if (s->from[rd] == s->from[rd + 1])
			continue;
		if (dec_push(&r, top(rd), c, pos))
			return true;
		busy |= sc->rdr[set][rd][0].np || sc->rdr[set][rd][1].np;
	}
	/* (what is skipped unread must be no anchored parse's either) */
	sc->busy[set] = busy || sc->partial[set] || sc->live[set];
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
				if (hex_value(c) >= 0) {
					sc->ch_left = sc->ch_left * 16 + (uint64_t)hex_value(c);
				} else if (c == '\r') {
					sc->ch = CH_SIZE_LF;
				} else if (c == '\n') {
					sc->ch = sc->ch_left ? CH_DATA : CH_TRAILER;
				} else {
					/* ';' and what follows: text, a stream of
					 * its own (set 1, WebSocket's control
					 * frames' otherwise): the client joins the
					 * data around it */
					sc->ch = CH_EXT;
					if (sym(sc, 1, (char)c, pos))
						return -EACCES;
				}
				break;
			case CH_EXT:
				if (c == '\r' || c == '\n') {
					sc->ch = c == '\n' ? (sc->ch_left ? CH_DATA : CH_TRAILER)
							   : CH_SIZE_LF;
				} else if (sym(sc, 1, (char)c, pos)) {
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
	sc->anchor_max = anchor_max(s);
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
		free(sc->aj[set]);
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

/* The symbols matched by the anchored parses of set SET, for S's needles:
 * those of needles the scan had already go on (a needle is read the same
 * way in both).  0, or -ENOMEM. */
static int rebase_anchors(struct nx_scan *sc, const struct nx_scrub *s, int set, uint32_t **ret)
{
	const struct nx_scrub *old = sc->s;
	uint32_t *nj;

	*ret = NULL;
	if (!sc->live[set])
		return 0;
	nj = malloc((size_t)sc->cap[set] * (s->n ? s->n : 1) * sizeof(*nj));
	if (!nj)
		return -ENOMEM;
	for (unsigned l = 0; l < sc->live[set]; l++) {
		uint32_t q = sc->idx[set][l], rd = sc->a[set][q].rd;
		const uint32_t *oj = sc->aj[set] + (size_t)q * old->n;
		for (uint32_t k = s->from[rd]; k < s->from[rd + 1]; k++) {
			const struct needle *nd = &s->needles[s->order[k]];
			nj[(size_t)q * s->n + k] = NX_DEAD;
			for (uint32_t ok = old->from[rd]; ok < old->from[rd + 1]; ok++)
				if (same_needle(nd, &old->needles[old->order[ok]])) {
					nj[(size_t)q * s->n + k] = oj[ok];
					break;
				}
		}
	}
	*ret = nj;
	return 0;
}

int nx_scan_rebase(struct nx_scan *sc, const struct nx_scrub *s)
{
	const struct nx_scrub *old = sc->s;
	struct match *m = calloc(2 * (s->n ? s->n : 1), sizeof(struct match));
	uint32_t *pool = calloc(2 * (size_t)(s->syms ? s->syms : 1), sizeof(uint32_t));
	size_t cap = s->hold_max > sc->carry_cap ? s->hold_max : sc->carry_cap;
	char *carry = malloc(cap);
	uint32_t *aj[2] = {NULL, NULL};

	if (!m || !pool || !carry || rebase_anchors(sc, s, 0, &aj[0]) < 0 ||
	    rebase_anchors(sc, s, 1, &aj[1]) < 0) {
		free(m);
		free(pool);
		free(carry);
		free(aj[0]);
		free(aj[1]);
		return -ENOMEM;
	}
	for (int set = 0; set < 2; set++) {
		unsigned keep = 0;
		for (unsigned l = 0; l < sc->live[set]; l++) {
			uint32_t q = sc->idx[set][l], rd = sc->a[set][q].rd, alive = 0;
			for (uint32_t k = s->from[rd]; k < s->from[rd + 1]; k++)
				alive += aj[set][(size_t)q * s->n + k] != NX_DEAD;
			sc->a[set][q].alive = alive;
			if (alive)
				sc->idx[set][keep++] = q;
		}
		sc->live[set] = keep;
		if (aj[set] || sc->aj[set]) {
			/* (none alive: made again, at the new size, on need) */
			free(sc->aj[set]);
			sc->aj[set] = aj[set];
			if (!aj[set]) {
				free(sc->a[set]);
				free(sc->idx[set]);
				sc->a[set] = NULL;
				sc->idx[set] = NULL;
				sc->cap[set] = sc->hint[set] = 0;
			}
		}
	}
	memcpy(carry, sc->carry, sc->carry_len);
	explicit_bzero(sc->carry, sc->carry_cap);
	free(sc->carry);
	sc->carry = carry;
	sc->carry_cap = cap;
	for (int set = 0, off = 0; set < 2; set++) {
		bool busy = false;
		sc->partial[set] = 0;
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
			sc->partial[set] += nm->j != 0;
		}
		/* a reader the old needles had none of was not fed: nothing
		 * under way; the others' escapes go on for every needle */
		for (unsigned rd = 0; rd < NX_READERS; rd++) {
			if (old->from[rd] == old->from[rd + 1])
				memset(sc->rdr[set][rd], 0, sizeof(sc->rdr[set][rd]));
			busy |= sc->rdr[set][rd][0].np || sc->rdr[set][rd][1].np;
		}
		sc->busy[set] = busy || sc->partial[set] || sc->live[set];
	}
	free(sc->pool);
	free(sc->m[0]);
	sc->m[0] = m;
	sc->m[1] = m + s->n;
	sc->pool = pool;
	sc->s = nx_scrub_ref(s);
	nx_scrub_free((struct nx_scrub *)old);
	sc->anchor_max = anchor_max(s);
	if (sc->anchor_max < sc->cap[0] || sc->anchor_max < sc->cap[1])
		sc->anchor_max = sc->cap[0] > sc->cap[1] ? sc->cap[0] : sc->cap[1];
	return 0;
}

unsigned nx_scan_anchor_slots(const struct nx_scan *sc)
{
	return sc->cap[0] > sc->cap[1] ? sc->cap[0] : sc->cap[1];
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
	 * (a secret spread over framing, or one over ~170 bytes) is not held
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
