/* SPDX-License-Identifier: MIT */
/*
 * The audit log (common/audit.c): opened by the supervisor; written by it
 * and by init (what a view of .git does not carry back).
 */
#ifndef RINGFENCE_COMMON_AUDIT_H
#define RINGFENCE_COMMON_AUDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "macros.h"

int audit_open(const char *path);
/* --log -: every event also on stderr, in a compact form when HUMAN. */
void audit_set_live(bool human);
bool audit_live(void);
_printf_(3, 4) void audit_event(int fd, const char *event, const char *fmt, ...);
/* Network and file events pass through a rate limit (a burst, then a steady rate);
 * false: do not write this one (it is counted).  The count is written when
 * logging resumes, or by audit_flush_suppressed() at exit. */
bool audit_rate_ok(int fd);
void audit_flush_suppressed(int fd);
/* JSON-escapes S into BUF (with quotes). */
void json_string(char *buf, size_t size, const char *s);

#endif
