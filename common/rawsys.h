/* SPDX-License-Identifier: MIT */
/*
 * System calls made directly, for a child that shares its parent's memory
 * (clone(2) with CLONE_VM: no page tables to copy, no copy-on-write fault
 * after it in either process, which a fork() costs, 1-3 ms of a start on
 * some virtual machines).  Such a child may not call libc's wrappers:
 * they set errno, a thread-local the parent may be reading at that very
 * moment.  These return -errno and touch nothing but their arguments.
 * x86_64 only (RAWSYS); elsewhere the callers fork.
 */
#ifndef RINGFENCE_COMMON_RAWSYS_H
#define RINGFENCE_COMMON_RAWSYS_H

#if defined(__x86_64__)
#define RAWSYS 1

static inline long rawsys5(long n, long a, long b, long c, long d, long e)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline long rawsys4(long n, long a, long b, long c, long d)
{
	return rawsys5(n, a, b, c, d, 0);
}

static inline long rawsys3(long n, long a, long b, long c)
{
	return rawsys4(n, a, b, c, 0);
}
#endif

#endif
