/*
 * tail_state.c - the follower's section of a checkpoint (STATE_TAG_TAIL),
 * and the older sections it replaces, through state.c's container.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "tail.h"
#include "util.h"

/* The same as a NUL-terminated copy. */
static char *
get_string(struct state_reader *r)
{
	size_t len;
	const char *p = state_get_string(r, &len);

	return p != NULL ? xstrndup(p, len) : NULL;
}

static void
put_string(struct state_writer *w, const char *s)
{
	state_put_bytes(w, s, strlen(s));
}

/*
 * STATE_TAG_TAIL (the prediction logs' follower) and
 * STATE_TAG_LABELS_TAIL (the [labels] logs'): u32 ninputs, then per input (string, i64 seen);
 * u32 npos, then per position (string input, string path, u32 kind,
 * u64 dev, ino, fp_hash, u32 fp_len, u64 offset, size).
 */
void
tail_state_save(struct state_writer *w, const struct tail_state *s,
    enum state_tag tag)
{
	size_t i;

	state_begin_section(w, tag);
	state_put_u32(w, (uint32_t)s->ninputs);
	for (i = 0; i < s->ninputs; i++) {
		put_string(w, s->inputs[i].input);
		state_put_u64(w, (uint64_t)s->inputs[i].seen);
	}
	state_put_u32(w, (uint32_t)s->npos);
	for (i = 0; i < s->npos; i++) {
		const struct tail_position *p = &s->pos[i];

		put_string(w, p->input);
		put_string(w, p->path);
		state_put_u32(w, (uint32_t)p->kind);
		state_put_u64(w, p->dev);
		state_put_u64(w, p->ino);
		state_put_u64(w, p->fp_hash);
		state_put_u32(w, p->fp_len);
		state_put_u64(w, p->offset);
		state_put_u64(w, p->size);
	}
	state_end_section(w);
}

/* The older sections: positions of open files, and the inputs. */
static int
get_tail_v1(const struct buf *file, struct tail_state *s)
{
	struct state_reader r;
	uint32_t count, i;
	int have = 0;

	if (state_section(file, STATE_TAG_POSITIONS, &r) == 0) {
		have = 1;
		count = state_get_u32(&r);
		if (count > STATE_MAX_ENTRIES)
			return -EBADMSG;
		s->pos = xcalloc(count + 1, sizeof(*s->pos));
		for (i = 0; i < count && !r.bad; i++) {
			struct tail_position *p = &s->pos[s->npos++];

			p->input = get_string(&r);
			p->path = get_string(&r);
			p->dev = state_get_u64(&r);
			p->ino = state_get_u64(&r);
			p->fp_hash = state_get_u64(&r);
			p->fp_len = state_get_u32(&r);
			p->offset = p->size = state_get_u64(&r);
			if (p->input == NULL || p->path == NULL)
				r.bad = 1;
		}
		if (r.bad)
			return -EBADMSG;
	}
	/* Without an inputs section, the inputs of the positions stand
	 * for the inputs followed. */
	if (state_section(file, STATE_TAG_INPUTS, &r) == 0) {
		have = 1;
		count = state_get_u32(&r);
		if (count > STATE_MAX_ENTRIES)
			return -EBADMSG;
		s->inputs = xcalloc(count + 1, sizeof(*s->inputs));
		for (i = 0; i < count && !r.bad; i++) {
			s->inputs[s->ninputs].seen = -1;
			if ((s->inputs[s->ninputs++].input = get_string(&r)) == NULL)
				r.bad = 1;
		}
		if (r.bad)
			return -EBADMSG;
	} else {
		s->inputs = xcalloc(s->npos + 1, sizeof(*s->inputs));
		for (i = 0; i < s->npos; i++) {
			s->inputs[i].input = xstrdup(s->pos[i].input);
			s->inputs[i].seen = -1;
		}
		s->ninputs = s->npos;
	}
	return have ? 0 : -ENOENT;
}

int
tail_state_load(const struct buf *file, enum state_tag tag,
    struct tail_state *s)
{
	struct state_reader r;
	uint32_t count, i;
	int ret;

	memset(s, 0, sizeof(*s));
	if (state_section(file, tag, &r) != 0) {
		ret = tag == STATE_TAG_TAIL ? get_tail_v1(file, s) : -ENOENT;
		goto out;
	}
	ret = -EBADMSG;
	count = state_get_u32(&r);
	if (count > STATE_MAX_ENTRIES)
		goto out;
	s->inputs = xcalloc(count + 1, sizeof(*s->inputs));
	for (i = 0; i < count && !r.bad; i++) {
		struct tail_input_state *in = &s->inputs[s->ninputs++];

		in->input = get_string(&r);
		in->seen = (int64_t)state_get_u64(&r);
		if (in->input == NULL)
			r.bad = 1;
	}
	count = state_get_u32(&r);
	if (r.bad || count > STATE_MAX_ENTRIES)
		goto out;
	s->pos = xcalloc(count + 1, sizeof(*s->pos));
	for (i = 0; i < count && !r.bad; i++) {
		struct tail_position *p = &s->pos[s->npos++];
		uint32_t kind;

		p->input = get_string(&r);
		p->path = get_string(&r);
		kind = state_get_u32(&r);
		p->dev = state_get_u64(&r);
		p->ino = state_get_u64(&r);
		p->fp_hash = state_get_u64(&r);
		p->fp_len = state_get_u32(&r);
		p->offset = state_get_u64(&r);
		p->size = state_get_u64(&r);
		if (p->input == NULL || p->path == NULL || kind > TAIL_POS_CONTENT)
			r.bad = 1;
		p->kind = (enum tail_pos_kind)kind;
	}
	if (!r.bad)
		ret = 0;
out:
	if (ret != 0)
		tail_state_free(s);
	return ret;
}
