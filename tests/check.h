/*
 * check.h - assertions for code that runs inside a forked test child:
 * on failure print where and why, then _exit(1) so the parent sees it.
 * (cmocka's own assertions longjmp within one process and cannot be used
 * across fork.)
 */
#ifndef IPCB_TEST_CHECK_H
#define IPCB_TEST_CHECK_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			_exit(1);                                              \
		}                                                              \
	} while (0)

#define CHECK_EQ(a, b)                                                    \
	do {                                                              \
		long long a_ = (long long)(a), b_ = (long long)(b);       \
		if (a_ != b_) {                                           \
			fprintf(stderr,                                   \
				"%s:%d: %s == %s failed: %lld != %lld\n", \
				__FILE__, __LINE__, #a, #b, a_, b_);      \
			_exit(1);                                         \
		}                                                         \
	} while (0)

#define CHECK_OK(expr)                                                  \
	do {                                                            \
		int rc_ = (expr);                                       \
		if (rc_ != 0) {                                         \
			fprintf(stderr, "%s:%d: %s returned %d (%s)\n", \
				__FILE__, __LINE__, #expr, rc_,         \
				strerror(rc_ < 0 ? -rc_ : rc_));        \
			_exit(1);                                       \
		}                                                       \
	} while (0)

/* Exit status a test child uses to say "skipped: kernel lacks this". */
#define CHECK_SKIP_STATUS 77

#endif
