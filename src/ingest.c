/*
 * ingest.c - from lines to records to everything that consumes records.
 */
#include "config.h"

#include <stdlib.h>

#include "ingest.h"
#include "model.h"
#include "record.h"
#include "util.h"

struct ingest {
	struct record_parser *parser;
	struct model *model;
	struct record rec;
};

struct ingest *
ingest_create(const struct conf *c, struct metrics_registry *reg)
{
	struct ingest *g = xcalloc(1, sizeof(*g));

	g->parser = record_parser_create(c);
	if (g->parser == NULL) {
		free(g);
		return NULL;
	}
	g->model = model_create(c, g->parser, reg);
	return g;
}

void
ingest_destroy(struct ingest *g)
{
	if (g == NULL)
		return;
	model_destroy(g->model);
	record_parser_destroy(g->parser);
	free(g);
}

enum tail_line_result
ingest_line(void *arg, const char *line, size_t len)
{
	struct ingest *g = arg;

	switch (record_parse(g->parser, line, len, &g->rec)) {
	case RECORD_BAD_JSON:
		return TAIL_LINE_BAD_JSON;
	case RECORD_SKIP:
		return TAIL_LINE_OK;
	case RECORD_OK:
		break;
	}
	model_observe(g->model, &g->rec);
	return TAIL_LINE_OK;
}
