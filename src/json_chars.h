/*
 * json_chars.h - character tests shared by the JSON scanner and the value
 * decoders (json.c, json_value.c).  Private to those two files.
 */
#ifndef DRIFTD_JSON_CHARS_H
#define DRIFTD_JSON_CHARS_H

#include <stdint.h>
#include <string.h>

static inline int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SWAR_DIGITS 1

static inline uint64_t
load8(const char *p)
{
	uint64_t x;

	memcpy(&x, p, 8);
	return x;
}

/*
 * How many of the 8 bytes in x (in memory order) are ASCII digits before
 * the first that is not.  A byte b is a digit when its high nibble is 3
 * and so is that of b + 6.  The addition may carry into the next byte,
 * but only out of a byte >= 0xFA, which is no digit, and only bytes
 * before the first non-digit matter.
 */
static inline unsigned
digit_run8(uint64_t x)
{
	const uint64_t hi = 0xF0F0F0F0F0F0F0F0ULL, threes = 0x3030303030303030ULL;
	uint64_t bad = ((x & hi) ^ threes) |
	    (((x + 0x0606060606060606ULL) & hi) ^ threes);

	return bad == 0 ? 8 : (unsigned)__builtin_ctzll(bad) / 8;
}

/* The value of 8 ASCII digits, by halving the number of lanes three
 * times: pairs of digits, then pairs of pairs, then the two halves. */
static inline uint64_t
parse8(uint64_t x)
{
	x -= 0x3030303030303030ULL;
	x = (x * 10 + (x >> 8)) & 0x00FF00FF00FF00FFULL;
	x = (x * 100 + (x >> 16)) & 0x0000FFFF0000FFFFULL;
	return (x * 10000 + (x >> 32)) & 0xFFFFFFFFULL;
}
#else
#define SWAR_DIGITS 0
#endif


#endif
