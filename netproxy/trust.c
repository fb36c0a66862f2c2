/* SPDX-License-Identifier: MIT */
/*
 * What the proxy's upstream side trusts besides the system's roots, and the
 * bundle the sandbox's clients are given.
 *
 * The caller's CA files ($SSL_CERT_FILE, $NODE_EXTRA_CA_CERTS, ...) are read
 * at start-up, as bytes (a file the sandbox may write later must not change
 * what the proxy trusts), checked by their header and end lines and base64
 * alone (parsing takes OpenSSL, ~1.5 ms to load), and parsed at the first
 * interception (nx_trust_roots); directories ($SSL_CERT_DIR) are read by
 * OpenSSL when a chain needs them.  The bundle (nx_trust_write_bundle) is the
 * system's, the caller's files and directories, [network] upstream_ca and
 * the run's CA, each file and certificate once.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../common/util.h"
#include "trust.h"

/* certificates read from one trusted directory for the bundle */
#define TRUST_DIR_ENTRIES 4096

static bool hashed_name(const char *name)
{
	size_t n = strlen(name);

	if (n < 10 || name[8] != '.')
		return false;
	for (size_t i = 0; i < 8; i++)
		if (!strchr("0123456789abcdef", name[i]))
			return false;
	for (size_t i = 9; i < n; i++)
		if (name[i] < '0' || name[i] > '9')
			return false;
	return true;
}

/*
 * The system's roots, always (the caller's $SSL_CERT_FILE and $SSL_CERT_DIR
 * are added to them by netproxy_tls_add_trust, not put in their place):
 * the hashed directory, whose certificates are read only when a chain
 * needs one (the bundle file takes ~20 ms to parse); else the file.  Then
 * the caller's directories.
 */
static int load_roots(const struct nx_trust *t, SSL_CTX *ctx)
{
	const char *dir = X509_get_default_cert_dir();
	bool hashed = false;
	DIR *d;
	int r = -1;

	/* Debian's ca-certificates keeps a hash link (HHHHHHHH.0) per root */
	d = opendir(dir);
	for (struct dirent *e; d && !hashed && (e = readdir(d));)
		hashed = hashed_name(e->d_name);
	if (d)
		closedir(d);
	if (hashed && SSL_CTX_load_verify_dir(ctx, dir) == 1)
		r = 0;
	else if (SSL_CTX_load_verify_file(ctx, X509_get_default_cert_file()) == 1)
		r = 0;
	ERR_clear_error();
	for (size_t i = 0; i < t->n; i++)
		if (t->dir[i] && SSL_CTX_load_verify_dir(ctx, t->path[i]) == 1)
			r = 0;
	ERR_clear_error();
	/* no system roots but the caller's files: those are the roots */
	return r == 0 || (t->extra && sk_X509_num(t->extra) > 0) ? 0 : -1;
}

/* The certificates of the caller's CA files, parsed here, on first use,
 * not at start-up: the usual one is the system's whole bundle (~150
 * certificates, ~20 ms to parse), and a run that never intercepts never
 * needs them.  Parsed from the bytes read at start-up, which
 * netproxy_tls_add_trust() checked hold a certificate: the file itself
 * may be the sandbox's to write by now. */
static int load_trust_files(struct nx_trust *t)
{
	if (t->loaded)
		return 0;
	t->loaded = true;
	for (size_t i = 0; i < t->n; i++) {
		BIO *in;
		X509 *x;
		if (t->dir[i] || !t->pem[i])
			continue;
		if (!t->extra)
			t->extra = sk_X509_new_null();
		if (!t->extra)
			return -ENOMEM;
		in = BIO_new(BIO_s_mem());
		if (in && BIO_write(in, t->pem[i], (int)t->len[i]) != (int)t->len[i]) {
			BIO_free(in);
			in = NULL;
		}
		while (in && (x = PEM_read_bio_X509(in, NULL, NULL, NULL)))
			if (!sk_X509_push(t->extra, x))
				X509_free(x);
		BIO_free(in);
		ERR_clear_error();
		free(t->pem[i]);
		t->pem[i] = NULL;
	}
	return 0;
}

int nx_trust_roots(struct nx_trust *t, SSL_CTX *ctx)
{
	X509_STORE *store;

	if (load_trust_files(t) < 0 || load_roots(t, ctx) < 0)
		return -EIO;
	store = SSL_CTX_get_cert_store(ctx);
	for (int i = 0; t->extra && i < sk_X509_num(t->extra); i++)
		if (X509_STORE_add_cert(store, sk_X509_value(t->extra, i)) != 1)
			return -EIO;
	ERR_clear_error();
	return 0;
}

int nx_trust_upstream(struct nx_trust *t, const char *path, char *err, size_t err_size)
{
	/* read now, so a bad file refuses to start */
	BIO *in = BIO_new_file(path, "r");
	X509 *x;

	if (!in) {
		snprintf(err, err_size, "[network] upstream_ca %s: %s", path,
			 strerror(errno ? errno : EIO));
		ERR_clear_error();
		return -EINVAL;
	}
	if (!t->extra)
		t->extra = sk_X509_new_null();
	while (t->extra && (x = PEM_read_bio_X509(in, NULL, NULL, NULL)))
		if (!sk_X509_push(t->extra, x))
			X509_free(x);
	BIO_free(in);
	ERR_clear_error();
	if (!t->extra || sk_X509_num(t->extra) == 0) {
		snprintf(err, err_size, "[network] upstream_ca %s: not a PEM file of certificates",
			 path);
		return -EINVAL;
	}
	t->upstream_ca = strdup(path);
	return t->upstream_ca ? 0 : -ENOMEM;
}

/*
 * The file at PATH, read whole into *RET (its size in *RET_LEN, its
 * identity in *RET_ST) when it holds a PEM certificate, by its header and
 * end lines alone (what PEM_read_bio_X509 reads: "CERTIFICATE" or "X509
 * CERTIFICATE"): the certificates are parsed on first use
 * (load_trust_files); a file that holds none is said at start-up, as
 * before.  -ENOENT when it cannot be read, -EINVAL when it holds no
 * certificate.
 */
/* Whether each certificate block of BUF is base64 that could hold one: a
 * parse would take OpenSSL at start-up (~1.5 ms to load, ~20 ms for the
 * system's bundle); this is a pass over the bytes. */
/* 1: a base64 character, 2: white space a PEM body may hold, 0: neither.
 * A table: the system's bundle is ~220 KB of it, read at every start. */
static const unsigned char b64_class[256] = {
    ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1, ['0' ... '9'] = 1, ['+'] = 1, ['/'] = 1,
    ['='] = 1,	       ['\n'] = 2,	  ['\r'] = 2,	     [' '] = 2, ['\t'] = 2,
};

/* TAG (LEN > 0 bytes, starting with "-----") in the N bytes at P, or
 * NULL: memchr() from one '-' to the next, and a PEM body (base64) has
 * none, so this goes from line to line of BEGIN and END; memmem() looked
 * at every byte, ~1 MB a start with the system's bundle and SSL_CERT_DIR
 * (~0.5 ms). */
static const char *find_tag(const char *p, size_t n, const char *tag, size_t len)
{
	const char *stop = p + n;

	while ((size_t)(stop - p) >= len) {
		const char *d = memchr(p, '-', (size_t)(stop - p) - len + 1);
		if (!d)
			return NULL;
		if (memcmp(d, tag, len) == 0)
			return d;
		p = d + 1;
	}
	return NULL;
}

static bool pem_blocks_whole(const char *buf, size_t n)
{
	static const char begin[] = "-----BEGIN", end[] = "-----END";
	const char *p = buf, *stop = buf + n;

	while (p < stop) {
		const char *b = find_tag(p, (size_t)(stop - p), begin, sizeof(begin) - 1);
		const char *body = b ? memchr(b, '\n', (size_t)(stop - b)) : NULL;
		const char *e =
		    body ? find_tag(body, (size_t)(stop - body), end, sizeof(end) - 1) : NULL;
		size_t chars = 0;
		if (!b)
			return true;
		if (!e)
			return false;
		for (const char *c = body; c < e; c++) {
			unsigned k = b64_class[(unsigned char)*c];
			if (!k)
				return false;
			chars += k & 1;
		}
		if (chars < 4 || chars % 4)
			return false;
		p = e + sizeof(end) - 1;
	}
	return true;
}

static int read_trust_file(const char *path, char **ret, size_t *ret_len, struct stat *ret_st)
{
	static const char *const heads[] = {"-----BEGIN CERTIFICATE-----",
					    "-----BEGIN X509 CERTIFICATE-----"};
	static const char *const tails[] = {"-----END CERTIFICATE-----",
					    "-----END X509 CERTIFICATE-----"};
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	bool found = false;
	size_t got = 0;
	char *b;

	if (fd < 0)
		return -ENOENT;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > TRUST_FILE_MAX) {
		close(fd);
		return -ENOENT;
	}
	b = malloc((size_t)st.st_size + 1);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	got = read_upto(fd, b, (size_t)st.st_size);
	close(fd);
	/* a header and, after it, its end line (a file cut short has none) */
	for (size_t i = 0; !found && i < sizeof(heads) / sizeof(heads[0]); i++) {
		const char *h = find_tag(b, got, heads[i], strlen(heads[i]));
		found = h && find_tag(h, got - (size_t)(h - b), tails[i], strlen(tails[i]));
	}
	/* and every certificate in it base64 (one damaged block makes
	 * OpenSSL's PEM loader refuse the whole bundle it goes into) */
	if (found && !pem_blocks_whole(b, got))
		found = false;
	if (!found) {
		free(b);
		return -EINVAL;
	}
	*ret = b;
	*ret_len = got;
	*ret_st = st;
	return 0;
}

int nx_trust_add(struct nx_trust *t, const char *path, bool dir)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->path[i], path) == 0)
			return 0;
	if (t->n == TRUST_MAX)
		return -E2BIG;
	t->pem[t->n] = NULL;
	if (!dir) {
		int r = read_trust_file(path, &t->pem[t->n], &t->len[t->n], &t->st[t->n]);
		if (r < 0)
			return r;
	}
	t->path[t->n] = strdup(path);
	if (!t->path[t->n]) {
		free(t->pem[t->n]);
		t->pem[t->n] = NULL;
		return -ENOMEM;
	}
	t->dir[t->n++] = dir;
	return 0;
}

/*
 * The bundle, written as pieces of memory in one pass (writev), none of
 * them copied: the system's bundle (~220 KB) is the bytes read for the
 * proxy's own verification when a CA variable named it (they all do, as a
 * rule), not read a second time into a buffer grown to hold it all; a
 * page of memory first written costs a fault, 14 us on some machines, and
 * the copy was ~110 of them a start.
 *
 * The files already in it count by identity, and its certificates: the
 * caller's variables usually all name the system's bundle (SSL_CERT_FILE,
 * CURL_CA_BUNDLE, ... = /etc/ssl/certs/ca-certificates.crt) and
 * SSL_CERT_DIR holds its roots once more, one file each: without this the
 * same certificates went in 3-4 times, a file of ~1 MB to write at every
 * start for nothing.
 */
struct bundle {
	struct iovec *v; /* what is written, in order */
	size_t n;
	struct stat *files; /* what is in it, by identity */
	size_t n_files;
	struct cert_block {
		uint64_t hash;
		const char *p;
		size_t len;
	} * blocks; /* its certificates, for repeats */
	size_t n_blocks;
	char **owned; /* files read for it, that pieces point into */
	size_t n_owned;
};

static uint64_t fnv1a(const char *p, size_t n)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return h;
}

static int piece(struct bundle *b, const char *p, size_t n)
{
	struct iovec *v;

	if (n == 0)
		return 0;
	v = realloc(b->v, (b->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	b->v = v;
	v[b->n++] = (struct iovec){(void *)p, n}; /* only ever read */
	return 0;
}

static bool repeated(const struct bundle *b, uint64_t h, const char *p, size_t len)
{
	for (size_t i = 0; i < b->n_blocks; i++)
		if (b->blocks[i].hash == h && b->blocks[i].len == len &&
		    memcmp(b->blocks[i].p, p, len) == 0)
			return true;
	return false;
}

static bool blank(const char *p, const char *stop)
{
	for (; p < stop; p++)
		if (!strchr(" \t\r\n", *p))
			return false;
	return true;
}

/*
 * The certificates of the N bytes at P (a file of identity ST; they stay
 * where they are until the bundle is written) go in, less each that is,
 * byte for byte, one already in it: the same certificate twice trusts
 * nothing more.  Nothing else does: the bundle is for the command to
 * read, and a CA file of the caller's may hold its private key beside
 * the certificate (mitmproxy's -ca.pem), which the command is denied
 * (an outside review found it copied whole); comments, CRLs and
 * OpenSSL's TRUSTED CERTIFICATE blocks are left out with it.  Runs of
 * certificates with only blanks between them go in as one piece.  A file
 * in already adds nothing.
 */
static int add_bytes(struct bundle *b, const char *p, size_t n, const struct stat *st)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----",
			  end[] = "-----END CERTIFICATE-----";
	const char *run = NULL, *last = p, *stop = p + n;
	struct stat *sv;
	int e;

	for (size_t i = 0; i < b->n_files; i++)
		if (b->files[i].st_dev == st->st_dev && b->files[i].st_ino == st->st_ino)
			return 0;
	sv = realloc(b->files, (b->n_files + 1) * sizeof(*sv));
	if (!sv)
		return -ENOMEM;
	b->files = sv;
	sv[b->n_files++] = *st;
	for (const char *s = p; s < stop;) {
		const char *bl = find_tag(s, (size_t)(stop - s), begin, sizeof(begin) - 1);
		const char *el =
		    bl ? find_tag(bl, (size_t)(stop - bl), end, sizeof(end) - 1) : NULL;
		if (!el)
			break;
		size_t len = (size_t)(el - bl) + sizeof(end) - 1;
		/* the block's last 64 bytes (the end of the signature and the
		 * END line) and its length tell certificates apart; memcmp()
		 * decides.  Hashing whole blocks (~500 KB with SSL_CERT_DIR's
		 * files) cost ~0.5 ms */
		size_t tail = len < 64 ? len : 64;
		uint64_t h = fnv1a(bl + len - tail, tail) ^ len;
		bool again = repeated(b, h, bl, len);
		s = bl + len;
		if (run && (again || !blank(last, bl))) {
			/* the run ends with the last certificate kept */
			if ((e = piece(b, run, (size_t)(last - run))) < 0 ||
			    (e = piece(b, "\n", 1)) < 0)
				return e;
			run = NULL;
		}
		if (!again) {
			struct cert_block *v = realloc(b->blocks, (b->n_blocks + 1) * sizeof(*v));
			if (!v)
				return -ENOMEM;
			b->blocks = v;
			v[b->n_blocks++] = (struct cert_block){h, bl, len};
			run = run ? run : bl;
		}
		last = s;
	}
	if (run && ((e = piece(b, run, (size_t)(last - run))) < 0 || (e = piece(b, "\n", 1)) < 0))
		return e;
	return 0;
}

/*
 * The file at PATH (from the directory AT) read whole into memory the
 * bundle keeps, then added (add_bytes), unless it is in already (same
 * identity) or HELD (the caller's files read at start-up) has its bytes:
 * those are added instead.  A missing file adds nothing unless MUST.
 */
static int add_file(struct bundle *b, const struct nx_trust *held, int at, const char *path,
		    bool must)
{
	int fd = openat(at, path, O_RDONLY | O_CLOEXEC), e;
	struct stat st;
	char *buf, **o;
	size_t got = 0;

	if (fd < 0)
		return must ? -errno : 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > TRUST_FILE_MAX) {
		close(fd);
		return must ? -EINVAL : 0;
	}
	for (size_t i = 0; i < b->n_files; i++)
		if (b->files[i].st_dev == st.st_dev && b->files[i].st_ino == st.st_ino) {
			close(fd);
			return 0;
		}
	for (size_t i = 0; held && i < held->n; i++)
		if (held->pem[i] && held->st[i].st_dev == st.st_dev &&
		    held->st[i].st_ino == st.st_ino) {
			close(fd);
			return add_bytes(b, held->pem[i], held->len[i], &held->st[i]);
		}
	o = realloc(b->owned, (b->n_owned + 1) * sizeof(*o));
	buf = o ? malloc((size_t)st.st_size + 1) : NULL;
	if (o)
		b->owned = o;
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	got = read_upto(fd, buf, (size_t)st.st_size);
	close(fd);
	size_t pieces = b->n;
	if ((e = add_bytes(b, buf, got, &st)) < 0 || b->n == pieces) {
		free(buf); /* nothing of it went in (or nothing will) */
		return e;
	}
	b->owned[b->n_owned++] = buf;
	return 0;
}

/* The files of the trusted directory DIR (its .pem and .crt, and the
 * hashed names that are files, not links to them), at most
 * TRUST_DIR_ENTRIES entries read. */
static int add_dir(struct bundle *b, const char *dir)
{
	DIR *d = opendir(dir);
	size_t seen = 0;
	int r = 0;

	for (struct dirent *e; r == 0 && d && seen < TRUST_DIR_ENTRIES && (e = readdir(d));
	     seen++) {
		size_t l = strlen(e->d_name);
		/* the hashed names are links to the .pem/.crt beside them: one
		 * copy of each is enough */
		if (!(l > 4 && (strcmp(e->d_name + l - 4, ".pem") == 0 ||
				strcmp(e->d_name + l - 4, ".crt") == 0)) &&
		    !(hashed_name(e->d_name) && e->d_type == DT_REG))
			continue;
		/* by its name in the directory: no walk of DIR's path for each */
		r = add_file(b, NULL, dirfd(d), e->d_name, false);
	}
	if (d)
		closedir(d);
	return r;
}

/* All of V (N pieces) to FD, IOV_MAX at a time, short writes resumed. */
static int writev_all(int fd, struct iovec *v, size_t n)
{
	while (n > 0) {
		ssize_t w = writev(fd, v, n < IOV_MAX ? (int)n : IOV_MAX);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		size_t done = (size_t)w;
		for (; n > 0 && done >= v->iov_len; v++, n--)
			done -= v->iov_len;
		if (n > 0) {
			v->iov_base = (char *)v->iov_base + done;
			v->iov_len -= done;
		}
	}
	return 0;
}

int nx_trust_write_bundle(const struct nx_trust *t, const char *ca_pem, int fd, char *err,
			  size_t err_size)
{
	struct bundle b = {0};
	int r;

	/* the system's bundle, then what the caller's clients trusted besides
	 * ($SSL_CERT_FILE, $NODE_EXTRA_CA_CERTS, ..., $SSL_CERT_DIR): a client
	 * pointed at the bundle trusts all of it */
	r = add_file(&b, t, AT_FDCWD, X509_get_default_cert_file(), false);
	if (r == 0 && b.n == 0)
		r = add_file(&b, t, AT_FDCWD, "/etc/ssl/certs/ca-certificates.crt", false);
	for (size_t i = 0; r == 0 && i < t->n; i++) {
		if (t->dir[i])
			r = add_dir(&b, t->path[i]);
		else if (t->pem[i]) /* the bytes the proxy's own verification will trust */
			r = add_bytes(&b, t->pem[i], t->len[i], &t->st[i]);
	}
	if (r == 0 && t->upstream_ca)
		r = add_file(&b, NULL, AT_FDCWD, t->upstream_ca, true);
	if (r == 0)
		r = piece(&b, ca_pem, strlen(ca_pem));
	if (r == 0)
		r = writev_all(fd, b.v, b.n);
	if (r < 0)
		snprintf(err, err_size, "writing the CA bundle: %s", strerror(-r));
	for (size_t i = 0; i < b.n_owned; i++)
		free(b.owned[i]);
	free(b.owned);
	free(b.v);
	free(b.files);
	free(b.blocks);
	return r;
}

void nx_trust_free(struct nx_trust *t)
{
	sk_X509_pop_free(t->extra, X509_free);
	free(t->upstream_ca);
	for (size_t i = 0; i < t->n; i++) {
		free(t->path[i]);
		free(t->pem[i]);
	}
	*t = (struct nx_trust){0};
}
