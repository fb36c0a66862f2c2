/* SPDX-License-Identifier: MIT */
/*
 * OpenSSL, loaded on first need (ossl.h says why).
 *
 * dlopen with RTLD_NOW: every function the library itself calls is bound
 * at once, as BIND_NOW binds the binary's; RTLD_LOCAL: nothing else in the
 * process resolves against it.  The library is found as the dynamic loader
 * would find a DT_NEEDED one (the soname, through ld.so.cache), so the
 * distribution's libssl3 is the one used, and LD_LIBRARY_PATH is honoured
 * or ignored exactly as it was at start-up.  It is never unloaded.
 */
#define NX_OSSL_NO_REDIRECT
#include "ossl.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

union nx_ossl_table nx_ossl __attribute__((aligned(NX_OSSL_PAGE)));

static int loaded;

int nx_ossl_loaded(void)
{
	return loaded;
}

int nx_ossl_load(char *err, size_t err_size)
{
	struct nx_ossl_funcs f;
	const char *e;
	void *h;

	if (loaded)
		return 0;
	h = dlopen(NX_OSSL_LIBSSL, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		e = dlerror();
		snprintf(err, err_size, "TLS interception needs OpenSSL: %s",
			 e ? e : NX_OSSL_LIBSSL);
		return -ENOENT;
	}
	/* a handle's lookup covers its dependencies: libcrypto's names too */
#define NX_OSSL_SYM(name)                                                                          \
	f.p_##name = (__typeof__(f.p_##name))dlsym(h, #name);                                      \
	if (!f.p_##name) {                                                                         \
		snprintf(err, err_size, "TLS interception needs OpenSSL: %s has no %s",            \
			 NX_OSSL_LIBSSL, #name);                                                   \
		dlclose(h);                                                                        \
		return -ENOENT;                                                                    \
	}
	NX_OSSL_FUNCS(NX_OSSL_SYM)
#undef NX_OSSL_SYM
	nx_ossl.f = f;
	/* as the GOT under RELRO: no later write can point a call elsewhere */
	if (mprotect(&nx_ossl, sizeof(nx_ossl), PROT_READ) < 0) {
		int r = -errno;
		snprintf(err, err_size, "TLS interception: mprotect: %s", strerror(-r));
		return r;
	}
	loaded = 1;
	return 0;
}
