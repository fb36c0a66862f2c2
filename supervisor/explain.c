/* SPDX-License-Identifier: MIT */
/* `ringfence explain`: the effective policy, and which kernel layer enforces each part. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "supervisor.h"

struct explain_ctx {
	const struct policy *p;
	int abi;
};

/* [filesystem]: Landlock's ABI, what deny, protect and the stand-ins are, the
 * built-in names. */
static void annotate_filesystem(FILE *out, const struct explain_ctx *c)
{
	if (c->abi > 0)
		fprintf(out,
			"; Landlock ABI %d, applied in the command before exec: only the\n"
			"; paths below, read < exec < write; a final symlink is never "
			"followed\n",
			c->abi);
	else
		fprintf(out, "; Landlock is NOT available on this kernel\n");
	fprintf(out, "; deny: an empty read-only mount over the path (mount namespace), or\n"
		     "; grants split around it (no namespace); protect: a read-only bind\n"
		     "; with the directories on the way bound onto themselves (they cannot\n"
		     "; be renamed), or a read-only carve-out; absent, what the policy names\n"
		     "; cannot be created, an absent .git gets a read-only placeholder, and\n"
		     "; built-in names the sandbox creates are moved aside when it ends;\n"
		     "; modes, owners, times and extended attributes change only within\n"
		     "; the write grants (all else a read-only mount with a mount\n"
		     "; namespace; without, the supervisor makes those calls, judged);\n"
		     "; built in beneath write grants and ~:\n;  ");
	const char **names;
	size_t n = protect_builtin_names(false, &names);
	for (size_t i = 0; i < n; i++)
		fprintf(out, " %s", names[i]);
	fprintf(out, "\n; and in ~ only:\n;  ");
	n = protect_builtin_names(true, &names);
	for (size_t i = 0; i < n; i++)
		fprintf(out, " %s", names[i]);
	fprintf(out, "\n; and at a project's top, any module of Python's standard library made\n"
		     "; during the run (inspect.py, logging.pyc, json/__init__.py, ...)");
	fprintf(out, "\n; plus the policy files, the ringfence binary and the audit log\n");
	fprintf(out, "; a missing grant is said once on stderr unless written ?PATH (optional);\n"
		     "; create: directories made before the grants (0700, the command's\n"
		     "; user's, no symlink followed), beneath ~ or the working directory;\n"
		     "; private: the sandbox's own persistent copy of PATH, kept in\n"
		     "; $XDG_STATE_HOME/ringfence/NAME (default ~/.local/state/ringfence)\n"
		     "; and bound over PATH (mount namespace), never written back; the\n"
		     "; state directory is masked; private_seed: copied once from the\n"
		     "; host (no symlink followed); without a mount namespace PATH is\n"
		     "; read-only and private_env = VAR=PATH points VAR at the copy\n");
}

/* [network]: the mode, the proxy's isolation and capture, unix_connect. */
static void annotate_network(FILE *out, const struct policy *p)
{
	switch (p->net.mode) {
	case POLICY_NET_NONE:
		fprintf(out, "; a network namespace with only lo; without namespaces, seccomp\n"
			     "; refuses inet sockets and Landlock refuses TCP bind/connect\n");
		break;
	case POLICY_NET_HOST:
		fprintf(out, "; the host's network, unrestricted\n");
		break;
	case POLICY_NET_PROXY:
		fprintf(out,
			"; only through ringfence's proxy (HTTP CONNECT, HTTP forward and "
			"SOCKS5\n"
			"; on one port, in HTTP(S)_PROXY and ALL_PROXY); names allowed below "
			"on\n"
			"; ports 80 and 443 unless a port is given; deny wins; addresses only "
			"by\n"
			"; allow_cidr; private = deny checks every address a name resolves "
			"to.\n"
			"; a tunnel's first bytes are judged before it carries anything: TLS\n"
			"; must name the tunnel's host (allow_no_sni excepts), plain HTTP is\n"
			"; read request by request, other protocols need a port allowed by\n"
			"; number (server_first = HOST:PORT when the server speaks first)\n"
			"; METHODS URL rules: every request to their hosts is read and judged\n"
			"; (deny first, then a whole-host allow, then the allow rules), their\n"
			"; HTTPS intercepted with the run's CA as a credential's host is; a\n"
			"; refusal is a 403 naming the rule that would allow it\n"
			"; isolation: a private network namespace with only lo (the proxy's\n"
			"; socket is made inside it), or else the connect broker: every\n"
			"; connect(2) goes to ringfence, which connects to the proxy itself;\n"
			"; Landlock refuses the sandbox's own TCP, seccomp all but TCP "
			"sockets\n");
		if (!p->net.no_capture)
			fprintf(out, "; capture = on: clients that use no proxy reach it too: the\n"
				     "; sandbox's DNS answers allowed names with addresses from\n"
				     "; 198.18.0.0/15 and others NXDOMAIN (no query leaves); every "
				     "TCP\n"
				     "; connect(2) outside its loopback is judged by ringfence and "
				     "taken\n"
				     "; to the proxy as CONNECT to the name or address (EACCES if "
				     "refused)\n");
		break;
	case _POLICY_NET_MAX:
	default:
		break;
	}
	if (p->syscalls.unix_sockets)
		fprintf(out,
			"; unix_connect: every connect(2) is made by ringfence, which reaches\n"
			"; a named Unix socket only when listed here (or in the private\n"
			"; /tmp); no Unix datagrams; listen(2) too: no inbound inet under\n"
			"; the broker\n");
}

static void annotate(FILE *out, const char *section, void *ud)
{
	const struct explain_ctx *c = ud;
	const struct policy *p = c->p;
	size_t allowed = 0, denied = 0;

	if (strcmp(section, "sandbox") == 0) {
		fprintf(out, "; %s: a layer this kernel cannot apply %s\n",
			policy_enforcement_name(p->enforcement),
			p->enforcement == POLICY_ENFORCE_STRICT
			    ? "stops ringfence (exit 125)"
			    : "is reported on stderr and skipped");
		fprintf(out,
			"; namespaces: init is PID 1 of new user (when unprivileged), PID, mount,\n"
			"; IPC and network namespaces, with a fresh read-only /proc; without them\n"
			"; init is a subreaper that ends the whole tree\n");
	} else if (strcmp(section, "filesystem") == 0) {
		annotate_filesystem(out, c);
	} else if (strcmp(section, "network") == 0) {
		annotate_network(out, p);
	} else if (strncmp(section, "credential ", 11) == 0) {
		fprintf(out,
			"; the secret is read before the sandbox starts and kept in ringfence's\n"
			"; memory only; the command's env variable holds a placeholder, which\n"
			"; the proxy replaces (request target, headers, Basic) only in requests\n"
			"; to these hosts; HTTPS to them is intercepted with a CA made for the\n"
			"; run (trusted through SSL_CERT_FILE and friends, and WGETRC); a\n"
			"; placeholder sent anywhere else refuses the request (cred.block);\n"
			"; the bundle holds the system roots, the CA files the caller's\n"
			"; variables named (and SSL_CERT_DIR's) and the CA, and upstream\n"
			"; servers are verified against the same; without a credential the\n"
			"; caller's CA variables pass through and their files are readable;\n"
			"; inject = puts the secret in one place only (the placeholder\n"
			"; elsewhere is refused); require = yes refuses a request to these\n"
			"; hosts without the placeholder; source = cmd: runs the command\n"
			"; outside the sandbox as the caller (no shell), again at half its ttl\n");
	} else if (strcmp(section, "process") == 0) {
		fprintf(
		    out,
		    "; privilege drop with libcap-ng: every capability set emptied, securebits\n"
		    "; locked, no_new_privs; run_as switches user only when started as root;\n"
		    "; the environment holds only env_keep and env_set; fds above 2 are closed\n");
	} else if (strcmp(section, "syscalls") == 0) {
		for (size_t i = 0; i < seccomp_table_n; i++) {
			if (seccomp_table[i].verdict == SC_DENY ||
			    seccomp_table[i].verdict == SC_ENOTSUP)
				denied++;
			else
				allowed++;
		}
		fprintf(out,
			"; seccomp-BPF, installed last: %zu calls allowed (some by argument),\n"
			"; %zu refused by name, anything else ENOSYS; clone3 ENOSYS; x32 and\n"
			"; other architectures killed\n",
			allowed, denied);
	} else if (strcmp(section, "log") == 0) {
		fprintf(out, "; JSON lines written by the supervisor, outside the sandbox\n");
	}
}

int supervisor_explain(const struct cli *cli)
{
	char *home = NULL;
	struct policy *p = supervisor_load_policy(cli, &home);
	struct explain_ctx c = {.p = p, .abi = landlock_probe_abi()};

	policy_print(p, stdout, annotate, &c);
	policy_free(p);
	free(home);
	return 0;
}
