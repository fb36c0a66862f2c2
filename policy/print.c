/* SPDX-License-Identifier: MIT */
/* Printing the effective policy, and the names of enum values. */
#include <string.h>

#include "../common/macros.h"
#include "../common/utf8.h"
#include "policy.h"

const char *policy_net_mode_name(enum policy_net_mode m)
{
	switch (m) {
	case POLICY_NET_PROXY:
		return "proxy";
	case POLICY_NET_NONE:
		return "none";
	case POLICY_NET_HOST:
		return "host";
	case _POLICY_NET_MAX:
	default:
		return "?";
	}
}

const char *policy_enforcement_name(enum policy_enforcement e)
{
	switch (e) {
	case POLICY_ENFORCE_STRICT:
		return "strict";
	case POLICY_ENFORCE_BEST_EFFORT:
		return "best-effort";
	case _POLICY_ENFORCE_MAX:
	default:
		return "?";
	}
}

static const char *namespaces_name(enum policy_namespaces n)
{
	switch (n) {
	case POLICY_NS_AUTO:
		return "auto";
	case POLICY_NS_ON:
		return "on";
	case POLICY_NS_OFF:
		return "off";
	case _POLICY_NS_MAX:
	default:
		return "?";
	}
}

static const char *isolation_name(enum policy_isolation i)
{
	switch (i) {
	case POLICY_ISOLATION_AUTO:
		return "auto";
	case POLICY_ISOLATION_NAMESPACE:
		return "namespace";
	case POLICY_ISOLATION_BROKER:
		return "broker";
	case _POLICY_ISOLATION_MAX:
	default:
		return "?";
	}
}

const char *policy_rlimit_key(enum policy_rlimit r)
{
	switch (r) {
	case POLICY_RLIMIT_NOFILE:
		return "rlimit_nofile";
	case POLICY_RLIMIT_NPROC:
		return "rlimit_nproc";
	case POLICY_RLIMIT_CORE:
		return "rlimit_core";
	case POLICY_RLIMIT_FSIZE:
		return "rlimit_fsize";
	case POLICY_RLIMIT_AS:
		return "rlimit_as";
	case POLICY_RLIMIT_CPU:
		return "rlimit_cpu";
	case _POLICY_RLIMIT_MAX:
	default:
		return "?";
	}
}

/* The defaults are the timers the proxy always had: long enough for slow
 * networks, short enough that a stalled client cannot hold a tunnel open
 * unjudged for long. */
static const struct {
	const char *key;
	uint32_t default_ms;
} timers[_POLICY_TIMER_MAX] = {
    [POLICY_TIMER_FIRST_BYTES] = {"first_bytes_timeout", 30000},
    [POLICY_TIMER_CLIENT] = {"client_timeout", 30000},
    [POLICY_TIMER_CONNECT] = {"connect_timeout", 10000},
    [POLICY_TIMER_DNS] = {"dns_timeout", 3000},
};

/* A duration as a policy writes it: whole seconds when it is some. */
static void print_ms(FILE *out, const char *key, uint32_t ms)
{
	if (ms % 1000 == 0)
		fprintf(out, "%s = %us\n", key, (unsigned)(ms / 1000));
	else
		fprintf(out, "%s = %ums\n", key, (unsigned)ms);
}

const char *policy_inject_name(enum policy_inject i)
{
	switch (i) {
	case POLICY_INJECT_REPLACE:
		return "replace";
	case POLICY_INJECT_HEADER:
		return "header";
	case POLICY_INJECT_BEARER:
		return "bearer";
	case POLICY_INJECT_BASIC_PASSWORD:
		return "basic";
	case POLICY_INJECT_BASIC_USER:
		return "basic-user";
	case POLICY_INJECT_QUERY:
		return "query";
	case _POLICY_INJECT_MAX:
	default:
		return "?";
	}
}

const char *policy_timer_key(enum policy_net_timer t)
{
	return (unsigned)t < _POLICY_TIMER_MAX ? timers[t].key : "?";
}

uint32_t policy_timer_default_ms(enum policy_net_timer t)
{
	return (unsigned)t < _POLICY_TIMER_MAX ? timers[t].default_ms : 0;
}

uint32_t policy_timer_ms(const struct policy *p, enum policy_net_timer t)
{
	if (p && (unsigned)t < _POLICY_TIMER_MAX && p->net.timeout_ms[t])
		return p->net.timeout_ms[t];
	return policy_timer_default_ms(t);
}

/* TEXT on OUT with its controls (C0, DEL, C1 in UTF-8) as \xNN: a value
 * may hold what the sandbox named (${CWD}, a directory it made), and a
 * newline or an escape sequence would reach the operator's terminal, or
 * make one printed line look like two.  (common/util.c's text_escape()
 * does the same for messages; policy/ stands alone for its fuzzer.) */
static void put_text(FILE *out, const char *text)
{
	for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
		if (*c < 0x20 || *c == 0x7f)
			fprintf(out, "\\x%02x", *c);
		else if (c[0] == 0xc2 && c[1] >= 0x80 && c[1] < 0xa0)
			fprintf(out, "\\x%02x\\x%02x", c[0], c[1]), c++;
		else if ((c[0] == 0xd8 && utf8_reorders(c, 2)) ||
			 (c[0] == 0xe2 && c[1] && utf8_reorders(c, 3))) {
			/* a bidirectional control: the line shown reordered */
			size_t k = c[0] == 0xd8 ? 2 : 3;
			for (size_t i = 0; i < k; i++)
				fprintf(out, "\\x%02x", c[i]);
			c += k - 1;
		} else
			fputc(*c, out);
	}
}

static void print_origin(FILE *out, const struct policy_origin *o)
{
	if (o->file) {
		fputs("    ; ", out);
		put_text(out, o->file);
		fprintf(out, ":%u", o->line);
	} else {
		fprintf(out, "    ; command line");
	}
}

static void print_list(FILE *out, const char *key, const struct policy_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *v = l->items[i].value;
		bool quote = strpbrk(v, " \t,") != NULL;
		fprintf(out, "%s = %s%s", key,
			l->items[i].required   ? "!"
			: l->items[i].optional ? "?"
					       : "",
			quote ? "\"" : "");
		put_text(out, v);
		fprintf(out, "%s%s", l->items[i].is_dir && strcmp(v, "/") != 0 ? "/" : "",
			quote ? "\"" : "");
		print_origin(out, &l->items[i].origin);
		fputc('\n', out);
	}
}

/* Method and path rules, as they are read: "GET,HEAD https://..." (their
 * text has no blank but the one after the method list). */
static void print_http_list(FILE *out, const char *key, const struct policy_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		fprintf(out, "%s = ", key);
		put_text(out, l->items[i].value);
		print_origin(out, &l->items[i].origin);
		fputc('\n', out);
	}
}

static void section(FILE *out, const char *name,
		    void (*annotate)(FILE *out, const char *section, void *ud), void *ud)
{
	fprintf(out, "\n[%s]\n", name);
	if (annotate)
		annotate(out, name, ud);
}

/* [network] past its header: mode, and with the proxy its rules, limits
 * and timers; unix_connect when Unix sockets are allowed. */
static void print_network(FILE *out, const struct policy *p)
{
	fprintf(out, "mode = %s\n", policy_net_mode_name(p->net.mode));
	if (p->net.mode == POLICY_NET_PROXY) {
		fprintf(out, "isolation = %s\n", isolation_name(p->net.isolation));
		print_list(out, "allow", &p->net.allow);
		print_http_list(out, "allow", &p->net.allow_http);
		print_list(out, "deny", &p->net.deny);
		print_http_list(out, "deny", &p->net.deny_http);
		fprintf(out, "private = %s\n", p->net.private_deny ? "deny" : "allow");
		fprintf(out, "capture = %s\n", p->net.no_capture ? "off" : "on");
		print_list(out, "allow_cidr", &p->net.allow_cidr);
		print_list(out, "hosts", &p->net.hosts);
		print_list(out, "allow_no_sni", &p->net.allow_no_sni);
		print_list(out, "server_first", &p->net.server_first);
		if (p->net.upstream_ca)
			fprintf(out, "upstream_ca = %s\n", p->net.upstream_ca);
		if (p->net.memory_max && p->net.memory_max % (1 << 20) == 0)
			fprintf(out, "memory_max = %lluM\n",
				(unsigned long long)(p->net.memory_max >> 20));
		else if (p->net.memory_max)
			fprintf(out, "memory_max = %lluK\n",
				(unsigned long long)(p->net.memory_max >> 10));
		for (int t = 0; t < _POLICY_TIMER_MAX; t++) {
			uint32_t ms = p->net.timeout_ms[t];
			if (!ms)
				continue;
			if (ms % 1000 == 0)
				fprintf(out, "%s = %us\n",
					policy_timer_key((enum policy_net_timer)t),
					(unsigned)(ms / 1000));
			else
				fprintf(out, "%s = %ums\n",
					policy_timer_key((enum policy_net_timer)t), (unsigned)ms);
		}
	}
	if (p->syscalls.unix_sockets)
		print_list(out, "unix_connect", &p->net.unix_connect);
}

/* [process] past its header. */
static void print_process(FILE *out, const struct policy *p)
{
	if (p->process.run_as)
		fprintf(out, "run_as = %s\n", p->process.run_as);
	if (p->process.env_keep_set)
		print_list(out, "env_keep", &p->process.env_keep);
	else
		fprintf(out, "; env_keep: the built-in list\n");
	print_list(out, "env_set", &p->process.env_set);
	for (int r = 0; r < _POLICY_RLIMIT_MAX; r++) {
		const struct policy_rlimit_value *rl = &p->process.rlimits[r];
		if (!rl->set)
			continue;
		if (rl->value == POLICY_RLIM_INFINITY)
			fprintf(out, "%s = unlimited\n", policy_rlimit_key((enum policy_rlimit)r));
		else
			fprintf(out, "%s = %llu\n", policy_rlimit_key((enum policy_rlimit)r),
				(unsigned long long)rl->value);
	}
}

void policy_print(const struct policy *p, FILE *out,
		  void (*annotate)(FILE *out, const char *section, void *ud), void *ud)
{
	fprintf(out, "; effective policy, from:");
	for (size_t i = 0; i < p->n_files; i++)
		fprintf(out, " %s", p->files[i]);
	fputc('\n', out);

	section(out, "sandbox", annotate, ud);
	fprintf(out, "enforcement = %s\n", policy_enforcement_name(p->enforcement));
	fprintf(out, "namespaces = %s\n", namespaces_name(p->namespaces));
	if (p->name)
		fprintf(out, "name = %s\n", p->name);

	section(out, "filesystem", annotate, ud);
	print_list(out, "read", &p->fs.read);
	print_list(out, "exec", &p->fs.exec);
	print_list(out, "write", &p->fs.write);
	print_list(out, "deny", &p->fs.deny);
	print_list(out, "protect", &p->fs.protect);
	print_list(out, "create", &p->fs.create);
	print_list(out, "private", &p->fs.private_);
	print_list(out, "private_seed", &p->fs.private_seed);
	print_list(out, "private_env", &p->fs.private_env);
	fprintf(out, "private_tmp = %s\n", p->fs.private_tmp ? "yes" : "no");

	section(out, "network", annotate, ud);
	print_network(out, p);

	for (size_t i = 0; i < p->n_creds; i++) {
		char name[300];
		snprintf(name, sizeof(name), "credential %s", p->creds[i].name);
		section(out, name, annotate, ud);
		fprintf(out, "env = %s\nsource = %s\n", p->creds[i].env, p->creds[i].source);
		print_list(out, "hosts", &p->creds[i].hosts);
		if (p->creds[i].placeholder)
			fprintf(out, "placeholder = %s\n", p->creds[i].placeholder);
		if (p->creds[i].optional)
			fprintf(out, "optional = yes\n");
		if (p->creds[i].plaintext)
			fprintf(out, "plaintext = yes\n");
		if (p->creds[i].inject != POLICY_INJECT_REPLACE)
			fprintf(out, "inject = %s%s%s\n", policy_inject_name(p->creds[i].inject),
				p->creds[i].inject_arg ? ":" : "",
				p->creds[i].inject_arg ? p->creds[i].inject_arg : "");
		if (p->creds[i].require)
			fprintf(out, "require = yes\n");
		if (p->creds[i].ttl_set)
			print_ms(out, "ttl", p->creds[i].ttl_ms);
		if (p->creds[i].timeout_set)
			print_ms(out, "timeout", p->creds[i].cmd_timeout_ms);
	}

	section(out, "process", annotate, ud);
	print_process(out, p);

	section(out, "syscalls", annotate, ud);
	print_list(out, "deny", &p->syscalls.deny);
	print_list(out, "allow", &p->syscalls.allow);
	fprintf(out, "allow_dangerous = %s\n", p->syscalls.allow_dangerous ? "yes" : "no");
	fprintf(out, "unix_sockets = %s\n", p->syscalls.unix_sockets ? "allow" : "deny");
	fprintf(out, "action = %s\n", p->syscalls.action == POLICY_SYSCALL_KILL ? "kill" : "errno");

	if (p->log.file) {
		section(out, "log", annotate, ud);
		fprintf(out, "file = %s\n", p->log.file);
	}
}
