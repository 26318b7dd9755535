/*
 * units.h - numbers for people: nanoseconds, rates and byte sizes in the
 * units that keep them short, "-" for a value that was not measured (NaN).
 * The table, compare and plot all print through these.
 */
#ifndef IPCB_UNITS_H
#define IPCB_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "850ns", "12.3us", "4.1ms". */
void ipcb_fmt_ns(char *buf, size_t n, double ns);
/* "950", "12.3k", "4.56M", "1.20G", followed by unit ("B", "/s", ""). */
void ipcb_fmt_rate(char *buf, size_t n, double v, const char *unit);
/* Exact sizes: "64", "4K", "1M" (long_units: "64 B", "4 KiB", "1 MiB"). */
void ipcb_fmt_size(char *buf, size_t n, uint64_t bytes, bool long_units);

#endif
