/* SPDX-License-Identifier: MIT */
/* die(): only supervisor/ ends the process, with one `ringfence: ` line. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "supervisor.h"

void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("ringfence: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_RINGFENCE);
}
