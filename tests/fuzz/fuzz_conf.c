/*
 * libFuzzer target for the configuration parser: any file content must
 * give either a configuration or errors, never a crash or a leak.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf errors = BUF_INIT;
	struct conf *c = NULL;

	if (conf_parse("fuzz.conf", (const char *)data, size, &c, &errors) == 0) {
		FILE *null = fopen("/dev/null", "w");

		if (null != NULL) {
			conf_dump(c, null);
			fclose(null);
		}
		conf_free(c);
	}
	buf_free(&errors);
	return 0;
}
