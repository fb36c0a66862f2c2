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
 * OpenSSL when a chain needs them.  The bundle (nx_trust_bundle) is the
 * system's, the caller's files and directories, [network] upstream_ca and
 * the run's CA, each file and certificate once.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
static bool pem_blocks_whole(const char *buf, size_t n)
{
	static const char begin[] = "-----BEGIN", end[] = "-----END";
	const char *p = buf, *stop = buf + n;

	while (p < stop) {
		const char *b = memmem(p, (size_t)(stop - p), begin, sizeof(begin) - 1);
		const char *body = b ? memchr(b, '\n', (size_t)(stop - b)) : NULL;
		const char *e =
		    body ? memmem(body, (size_t)(stop - body), end, sizeof(end) - 1) : NULL;
		size_t chars = 0;
		if (!b)
			return true;
		if (!e)
			return false;
		for (const char *c = body; c < e; c++) {
			if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
			    (*c >= '0' && *c <= '9') || *c == '+' || *c == '/' || *c == '=')
				chars++;
			else if (*c != '\n' && *c != '\r' && *c != ' ' && *c != '\t')
				return false;
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
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, b + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	/* a header and, after it, its end line (a file cut short has none) */
	for (size_t i = 0; !found && i < sizeof(heads) / sizeof(heads[0]); i++) {
		const char *h = memmem(b, got, heads[i], strlen(heads[i]));
		found = h && memmem(h, got - (size_t)(h - b), tails[i], strlen(tails[i]));
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

/* The files already in a bundle, by identity, and its certificates: the
 * caller's variables usually all name the system's bundle (SSL_CERT_FILE,
 * CURL_CA_BUNDLE, ... = /etc/ssl/certs/ca-certificates.crt) and
 * SSL_CERT_DIR holds its roots once more, one file each: without this the
 * same certificates went in 3-4 times, a file of ~1 MB to write at every
 * start for nothing. */
struct appended {
	struct stat *v;
	size_t n;
	struct pem_block {
		uint64_t hash;
		size_t off, len;
	} * blocks;
	size_t n_blocks;
};

static uint64_t fnv1a(const char *p, size_t n)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return h;
}

/*
 * Drops from BUF[START, *LEN) each certificate that is, byte for byte, one
 * already in the bundle: the same certificate twice trusts nothing more,
 * and SSL_CERT_DIR's files are the system bundle's roots again, one by
 * one.  Everything else (other certificates, CRLs, comments) stays.
 */
static int drop_repeated_certs(char *buf, size_t start, size_t *len, struct appended *seen)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----",
			  end[] = "-----END CERTIFICATE-----";
	size_t r = start, w = start;

	while (r < *len) {
		char *b = memmem(buf + r, *len - r, begin, sizeof(begin) - 1);
		char *e = b ? memmem(b, *len - (size_t)(b - buf), end, sizeof(end) - 1) : NULL;
		if (!e) {
			memmove(buf + w, buf + r, *len - r);
			w += *len - r;
			break;
		}
		size_t off = (size_t)(b - buf), blen = (size_t)(e - b) + sizeof(end) - 1;
		/* the block's last 64 bytes (the end of the signature and the
		 * END line) and its length tell certificates apart; memcmp()
		 * decides.  Hashing whole blocks (~500 KB with SSL_CERT_DIR's
		 * files) cost ~0.5 ms */
		size_t tail = blen < 64 ? blen : 64;
		uint64_t h = fnv1a(b + blen - tail, tail) ^ blen;
		bool dup = false;
		for (size_t i = 0; !dup && i < seen->n_blocks; i++)
			dup = seen->blocks[i].hash == h && seen->blocks[i].len == blen &&
			      memcmp(buf + seen->blocks[i].off, b, blen) == 0;
		memmove(buf + w, buf + r, off - r); /* what comes before it */
		w += off - r;
		r = off + blen;
		if (dup) {
			if (r < *len && buf[r] == '\n')
				r++;
			continue;
		}
		struct pem_block *v = realloc(seen->blocks, (seen->n_blocks + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		seen->blocks = v;
		v[seen->n_blocks++] = (struct pem_block){h, w, blen};
		memmove(buf + w, buf + off, blen);
		w += blen;
	}
	*len = w;
	return 0;
}

static bool seen_file(const struct appended *seen, const struct stat *st)
{
	for (size_t i = 0; i < seen->n; i++)
		if (seen->v[i].st_dev == st->st_dev && seen->v[i].st_ino == st->st_ino)
			return true;
	return false;
}

/* Appends LEN bytes of a file read before (identity ST) to *buf unless
 * it is in SEEN already. */
static int append_bytes(const char *bytes, size_t n, const struct stat *st, char **buf, size_t *len,
			struct appended *seen)
{
	char *b;

	if (seen_file(seen, st))
		return 0;
	struct stat *sv = realloc(seen->v, (seen->n + 1) * sizeof(*sv));
	if (!sv)
		return -ENOMEM;
	seen->v = sv;
	sv[seen->n++] = *st;
	b = realloc(*buf, *len + n + 2);
	if (!b)
		return -ENOMEM;
	*buf = b;
	memcpy(b + *len, bytes, n);
	size_t start = *len;
	*len += n;
	if (*len && b[*len - 1] != '\n')
		b[(*len)++] = '\n';
	return drop_repeated_certs(b, start, len, seen);
}

/* Appends the file at PATH to *buf unless it is in SEEN already; a missing
 * file appends nothing. */
static int append_file(const char *path, char **buf, size_t *len, bool must, struct appended *seen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *b;

	if (fd < 0)
		return must ? -errno : 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > TRUST_FILE_MAX) {
		close(fd);
		return must ? -EINVAL : 0;
	}
	if (seen_file(seen, &st)) {
		close(fd);
		return 0;
	}
	struct stat *sv = realloc(seen->v, (seen->n + 1) * sizeof(*sv));
	if (!sv) {
		close(fd);
		return -ENOMEM;
	}
	seen->v = sv;
	sv[seen->n++] = st;
	b = realloc(*buf, *len + (size_t)st.st_size + 2);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	*buf = b;
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, b + *len + got, (size_t)st.st_size - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	size_t start = *len;
	*len += got;
	if (*len && b[*len - 1] != '\n')
		b[(*len)++] = '\n';
	return drop_repeated_certs(b, start, len, seen);
}

int nx_trust_bundle(const struct nx_trust *t, const char *ca_pem, char **pem, size_t *len,
		    char *err, size_t err_size)
{
	char *buf = NULL;
	size_t n = 0;
	struct appended done = {0};
	int r;

	/* the system's bundle, then what the caller's clients trusted besides
	 * ($SSL_CERT_FILE, $NODE_EXTRA_CA_CERTS, ..., $SSL_CERT_DIR): a client
	 * pointed at the bundle trusts all of it */
	r = append_file(X509_get_default_cert_file(), &buf, &n, false, &done);
	if (r == 0 && n == 0)
		r = append_file("/etc/ssl/certs/ca-certificates.crt", &buf, &n, false, &done);
	for (size_t i = 0; r == 0 && i < t->n; i++) {
		if (!t->dir[i]) {
			/* the bytes the proxy's own verification will trust */
			if (t->pem[i])
				r = append_bytes(t->pem[i], t->len[i], &t->st[i], &buf, &n, &done);
			continue;
		}
		DIR *d = opendir(t->path[i]);
		size_t seen = 0;
		for (struct dirent *e; r == 0 && d && seen < TRUST_DIR_ENTRIES && (e = readdir(d));
		     seen++) {
			size_t l = strlen(e->d_name);
			char path[4096];
			/* the hashed names are links to the .pem/.crt beside
			 * them: one copy of each is enough */
			if (!(l > 4 && (strcmp(e->d_name + l - 4, ".pem") == 0 ||
					strcmp(e->d_name + l - 4, ".crt") == 0)) &&
			    !(hashed_name(e->d_name) && e->d_type == DT_REG))
				continue;
			if ((size_t)snprintf(path, sizeof(path), "%s/%s", t->path[i], e->d_name) <
			    sizeof(path))
				r = append_file(path, &buf, &n, false, &done);
		}
		if (d)
			closedir(d);
	}
	if (r == 0 && t->upstream_ca)
		r = append_file(t->upstream_ca, &buf, &n, true, &done);
	free(done.v);
	free(done.blocks);
	if (r == 0) {
		size_t l = strlen(ca_pem);
		char *b = realloc(buf, n + l + 1);
		if (!b) {
			r = -ENOMEM;
		} else {
			buf = b;
			memcpy(buf + n, ca_pem, l + 1);
			n += l;
		}
	}
	if (r < 0) {
		snprintf(err, err_size, "building the CA bundle: %s", strerror(-r));
		free(buf);
		return r;
	}
	*pem = buf;
	*len = n;
	return 0;
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
