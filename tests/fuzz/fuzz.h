/*
 * fuzz.h - what the libFuzzer targets share: a check that aborts (so the
 * fuzzer records the input), and their fixed configurations read once
 * through conf_parse(), as the daemon reads its file.
 */
#ifndef DRIFTD_FUZZ_H
#define DRIFTD_FUZZ_H

#include <stdlib.h>
#include <string.h>

#include "conf.h"

static inline void
check(int ok)
{
	if (!ok)
		abort();
}

/* Parse the n configuration texts into out[], once per process. */
static inline void
parse_configs(const char *const *texts, size_t n, struct conf **out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct buf errors = BUF_INIT;

		check(conf_parse("fuzz.conf", texts[i], strlen(texts[i]),
		    &out[i], &errors) == 0);
		buf_free(&errors);
	}
}

#endif
