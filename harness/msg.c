/*
 * msg.c - the --verify payload pattern (see msg.h).
 */
#include "harness/msg.h"

static inline uint64_t pattern_word(uint64_t seq, size_t i)
{
	return (seq + 1) * 0x9e3779b97f4a7c15ull ^ (uint64_t)i;
}

void ipcb_msg_fill(void *buf, size_t len, uint64_t seq)
{
	unsigned char *p = buf;

	for (size_t i = IPCB_MSG_HDR; i < len; i += 8) {
		uint64_t w = pattern_word(seq, i);
		memcpy(p + i, &w, len - i < 8 ? len - i : 8);
	}
}

bool ipcb_msg_check(const void *buf, size_t len, uint64_t seq)
{
	const unsigned char *p = buf;

	for (size_t i = IPCB_MSG_HDR; i < len; i += 8) {
		uint64_t w = pattern_word(seq, i);
		if (memcmp(p + i, &w, len - i < 8 ? len - i : 8) != 0)
			return false;
	}
	return true;
}
