/*
 * units.c - numbers for people (see units.h).
 */
#include "harness/units.h"

#include <math.h>
#include <stdio.h>

void ipcb_fmt_ns(char *buf, size_t n, double ns)
{
	if (isnan(ns))
		snprintf(buf, n, "-");
	else if (ns < 10e3)
		snprintf(buf, n, "%.0fns", ns);
	else if (ns < 10e6)
		snprintf(buf, n, "%.1fus", ns / 1e3);
	else
		snprintf(buf, n, "%.1fms", ns / 1e6);
}

void ipcb_fmt_rate(char *buf, size_t n, double v, const char *unit)
{
	if (isnan(v))
		snprintf(buf, n, "-");
	else if (v >= 1e9)
		snprintf(buf, n, "%.2fG%s", v / 1e9, unit);
	else if (v >= 1e6)
		snprintf(buf, n, "%.2fM%s", v / 1e6, unit);
	else if (v >= 1e3)
		snprintf(buf, n, "%.1fk%s", v / 1e3, unit);
	else
		snprintf(buf, n, "%.0f%s", v, unit);
}

void ipcb_fmt_size(char *buf, size_t n, uint64_t bytes, bool long_units)
{
	unsigned long long b = bytes;

	if (b >= (1ull << 30) && b % (1ull << 30) == 0)
		snprintf(buf, n, "%llu%s", b >> 30, long_units ? " GiB" : "G");
	else if (b >= (1u << 20) && b % (1u << 20) == 0)
		snprintf(buf, n, "%llu%s", b >> 20, long_units ? " MiB" : "M");
	else if (b >= 1024 && b % 1024 == 0)
		snprintf(buf, n, "%llu%s", b >> 10, long_units ? " KiB" : "K");
	else
		snprintf(buf, n, "%llu%s", b, long_units ? " B" : "");
}
