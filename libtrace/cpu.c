/*
 * cpu.c - what the CPU offers the span path, asked once (CPUID on x86).
 */
#include "trace_impl.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

bool trace__has_prefetchw;

void
trace__cpu_detect(void)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned int a, b, c, d;

	/* CPUID 0x80000001, ECX bit 8: PRFCHW. A CPU that does not report
	 * it is never given the instruction. */
	if (__get_cpuid(0x80000001u, &a, &b, &c, &d))
		trace__has_prefetchw = (c >> 8) & 1;
#endif
}
