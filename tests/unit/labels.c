/*
 * The join's batches: predictions and labels are joined in batches, in
 * the order they were read, and whatever reads or changes the join's
 * state takes the batch begun first.  Each case leaves a batch unfinished
 * where the order matters: a clock's tick that would expire a prediction
 * its queued label joins, a scrape, a checkpoint restored into a new
 * join, a record whose label is inline in it, and many events across
 * batch boundaries against the counts they must give.
 */
#include "config.h"

#include <stdlib.h>

#include "unit.h"
#include "../../src/conf.h"
#include "../../src/labels.h"
#include "../../src/metrics.h"
#include "../../src/record.h"
#include "../../src/state.h"
#include "../../src/strmap.h"

/* Arrival times on both sides (no timestamp): labels_tick() moves them. */
static const char conf_text[] =
    "[model]\nname = m\nclass = prediction\nid = rid\nlabel = truth\n"
    "[labels]\nmax_delay = 10s\n%s[window]\nsize = %d\nmin_samples = 1\n";

struct join {
	struct conf *c;
	struct metrics_registry *reg;
	struct record_parser *p;
	struct labels *l;
	struct record rec;
};

/* A join whose labelled window holds `window` pairs, with more [labels]
 * lines. */
static void
join_open_with(struct join *j, int window, const char *more)
{
	struct buf err = BUF_INIT;
	char text[sizeof(conf_text) + 128];

	memset(j, 0, sizeof(*j));
	snprintf(text, sizeof(text), conf_text, more, window);
	if (conf_parse("labels.conf", text, strlen(text), &j->c, &err) != 0)
		fail_msg("configuration rejected:\n%s", err.data);
	buf_free(&err);
	j->reg = metrics_create();
	j->p = record_parser_create(j->c);
	j->l = labels_create(j->c);
	assert_non_null(j->l);
	labels_attach(j->l, j->reg, NULL, NULL);
}

static void
join_open(struct join *j, int window)
{
	join_open_with(j, window, "");
}

static void
join_close(struct join *j)
{
	labels_destroy(j->l);
	record_parser_destroy(j->p);
	metrics_destroy(j->reg);
	conf_free(j->c);
}

/* j closed and opened again (with a window of `window` pairs) from a
 * checkpoint of its join. */
static void
join_restart(struct join *j, int window)
{
	struct state_writer w;

	state_writer_init(&w);
	labels_save(j->l, &w);
	state_finish(&w);
	join_close(j);
	join_open(j, window);
	assert_int_equal(labels_restore(j->l, &w.b), 0);
	state_writer_free(&w);
}

/* A line of the prediction log read at time t. */
static void
line(struct join *j, double t, const char *fmt, ...)
{
	char s[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(s, sizeof(s), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(s));
	assert_int_equal(record_parse(j->p, s, (size_t)n, &j->rec), RECORD_OK);
	labels_prediction(j->l, &j->rec, t);
}

static void
predict(struct join *j, double t, const char *id, const char *cls)
{
	line(j, t, "{\"rid\":\"%s\",\"prediction\":\"%s\"}", id, cls);
}

static void
truth(struct join *j, double t, const char *id, const char *cls)
{
	line(j, t, "{\"rid\":\"%s\",\"truth\":\"%s\"}", id, cls);
}

/* A prediction (label NULL) or a label for id, at time t, without a
 * line to parse: for the cases that need millions. */
static void
event(struct join *j, double t, const char *id, const char *cls,
    const char *label)
{
	memset(&j->rec, 0, sizeof(j->rec));
	j->rec.id.present = 1;
	j->rec.id.str = id;
	j->rec.id.len = strlen(id);
	if (label == NULL) {
		j->rec.cls.present = 1;
		j->rec.cls.str = cls;
		j->rec.cls.len = strlen(cls);
	} else {
		j->rec.label.present = 1;
		j->rec.label.str = label;
		j->rec.label.len = strlen(label);
	}
	labels_prediction(j->l, &j->rec, t);
}

/* Series `family`{model="m"[,reason=...]} after a collection. */
static double
value(struct join *j, const char *family, const char *reason)
{
	struct metrics_family *f;
	const struct metrics_series *s;

	metrics_collect(j->reg);
	f = metrics_family_find(j->reg, family);
	for (s = f ? metrics_family_first(f) : NULL; s != NULL;
	    s = metrics_series_next(s))
		if (reason == NULL ||
		    strcmp(metrics_series_label(s, 1), reason) == 0)
			return metrics_value(s);
	fail_msg("no series %s{reason=%s}", family, reason ? reason : "");
	return NAN;
}

#define LABELLED(j) value((j), "prediction_labelled_total", NULL)
#define UNMATCHED(j, r) value((j), "prediction_label_unmatched_total", (r))
#define PENDING(j) value((j), "prediction_label_pending", NULL)

/* A label queued before a tick joins its prediction, which the tick
 * would have expired had it come first. */
static void
test_tick_takes_the_batch_first(void **state)
{
	struct join j;

	(void)state;
	join_open(&j, 1000);
	predict(&j, 100, "r1", "a");
	truth(&j, 109, "r1", "a");
	labels_tick(j.l, 111);
	assert_double_near(LABELLED(&j), 1, 0);
	assert_double_near(UNMATCHED(&j, "expired"), 0, 0);
	assert_double_near(UNMATCHED(&j, "unknown_id"), 0, 0);
	/* The tick's own expiry, after the batch. */
	predict(&j, 112, "r2", "b");
	labels_tick(j.l, 123);
	assert_double_near(UNMATCHED(&j, "expired"), 1, 0);
	assert_double_near(PENDING(&j), 0, 0);
	join_close(&j);
}

/* A checkpoint holds the predictions of the batch begun: restored into a
 * new join, their labels join them. */
static void
test_checkpoint_takes_the_batch(void **state)
{
	struct join j;
	int i;
	char id[16];

	(void)state;
	join_open(&j, 1000);
	for (i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "s%d", i);
		predict(&j, 100 + i, id, "a");
	}
	join_restart(&j, 1000);
	assert_double_near(PENDING(&j), 5, 0);
	for (i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "s%d", i);
		truth(&j, 106, id, i % 2 ? "a" : "b");
	}
	assert_double_near(LABELLED(&j), 5, 0);
	assert_double_near(UNMATCHED(&j, "unknown_id"), 0, 0);
	assert_double_near(value(&j, "prediction_accuracy", NULL), 0.4, 0);
	join_close(&j);
}

/* The start of a join's section `tag` (STATE_TAG_LABELS or _JOIN) of a
 * classifier: no segment column, the clocks of predictions and labels,
 * classes a and b named, no segment named. */
static void
section_head(struct state_writer *w, enum state_tag tag, double clock_p,
    double clock_l)
{
	state_begin_section(w, tag);
	state_put_u32(w, 0);                            /* a classifier */
	state_put_bytes(w, "", 0);                      /* no segment */
	state_put_double(w, clock_p);
	state_put_double(w, clock_l);
	state_put_u32(w, 2);                            /* classes */
	state_put_bytes(w, "a", 1);
	state_put_bytes(w, "b", 1);
	state_put_u32(w, 0);                            /* segments */
}

/*
 * A checkpoint of an earlier build, whose section STATE_TAG_LABELS kept
 * waiting entries by their id's text: a prediction p1 of class a and a
 * label l1 of class b waiting, classes a and b named.  Restored, their
 * partners join them: p1 right, l1's prediction wrong.
 */
static void
test_checkpoint_of_an_earlier_build(void **state)
{
	struct join j;
	struct state_writer w;

	(void)state;
	state_writer_init(&w);
	section_head(&w, STATE_TAG_LABELS, NAN, NAN);
	state_put_u32(&w, 1);                           /* predictions */
	state_put_bytes(&w, "p1", 2);
	state_put_double(&w, 100);
	state_put_u64(&w, strmap_hash("a", 1));
	state_put_double(&w, 0.9);
	state_put_u32(&w, 0);
	state_put_u32(&w, 0xffff);
	state_put_u32(&w, 1);                           /* labels */
	state_put_bytes(&w, "l1", 2);
	state_put_double(&w, 100);
	state_put_u64(&w, 0);
	state_put_bytes(&w, "b", 1);
	state_put_u32(&w, 0);
	state_put_u32(&w, 0xffff);
	state_put_u32(&w, 0);                   /* remembered by strmap_hash() */
	state_put_u32(&w, 0);                           /* pairs */
	state_put_u32(&w, 2);                           /* hash version */
	state_put_u32(&w, 0);                           /* remembered */
	state_end_section(&w);
	state_finish(&w);
	join_open(&j, 1000);
	assert_int_equal(labels_restore(j.l, &w.b), 0);
	state_writer_free(&w);
	assert_double_near(PENDING(&j), 1, 0);
	truth(&j, 101, "p1", "a");
	predict(&j, 101, "l1", "a");
	assert_double_near(LABELLED(&j), 2, 0);
	assert_double_near(PENDING(&j), 0, 0);
	assert_double_near(UNMATCHED(&j, "unknown_id"), 0, 0);
	assert_double_near(value(&j, "prediction_accuracy", NULL), 0.5, 0);
	join_close(&j);
}

/*
 * Each join hashes ids with a key of its own (so that nobody can choose
 * ids that collide): two joins that saw the same prediction save
 * checkpoints of one length that differ in more than the key's 8 bytes
 * (in its 8 bytes and the id hash's 8, random, all but about 1 in 10^15
 * times); the same join saved twice does not differ.
 */
static void
test_ids_hashed_with_a_key_of_their_own(void **state)
{
	struct join a, b;
	struct state_writer wa, wb, wa2;
	size_t i, differ = 0;

	(void)state;
	join_open(&a, 10);
	join_open(&b, 10);
	predict(&a, 100, "r1", "x");
	predict(&b, 100, "r1", "x");
	state_writer_init(&wa);
	state_writer_init(&wb);
	state_writer_init(&wa2);
	labels_save(a.l, &wa);
	labels_save(b.l, &wb);
	labels_save(a.l, &wa2);
	assert_int_equal(wa.b.len, wb.b.len);
	for (i = 0; i < wa.b.len; i++)
		differ += wa.b.data[i] != wb.b.data[i];
	assert_true(differ > 8);
	assert_int_equal(wa.b.len, wa2.b.len);
	assert_memory_equal(wa.b.data, wa2.b.data, wa.b.len);
	state_writer_free(&wa);
	state_writer_free(&wb);
	state_writer_free(&wa2);
	join_close(&a);
	join_close(&b);
}

/* The start of a section STATE_TAG_JOIN of a classifier (see
 * section_head()), then the id hash's version and (if not version 2,
 * before keys) its key. */
static void
join_section(struct state_writer *w, double clock_p, double clock_l,
    uint32_t version, uint64_t key)
{
	section_head(w, STATE_TAG_JOIN, clock_p, clock_l);
	state_put_u32(w, version);
	if (version != 2)
		state_put_u64(w, key);
}

/* A waiting prediction of class a in a section. */
static void
put_waiting(struct state_writer *w, uint64_t hash, double t, double conf)
{
	state_put_u64(w, hash);
	state_put_double(w, t);
	state_put_u64(w, strmap_hash("a", 1));
	state_put_double(w, conf);
	state_put_u32(w, 0);
	state_put_u32(w, 0xffff);
}

/* A pair of the window in a section: predicted a, true `cls`. */
static void
put_pair(struct state_writer *w, const char *cls, double conf)
{
	state_put_u64(w, strmap_hash("a", 1));
	state_put_u64(w, strmap_hash(cls, 1));
	state_put_double(w, conf);
	state_put_u32(w, 0);
	state_put_u32(w, cls[0] == 'a' ? 0 : 1);
	state_put_u32(w, 0xffff);
}

/* Join j, opened, restores the checkpoint in w (and frees it): what
 * labels_restore() returns. */
static int
join_restore(struct join *j, struct state_writer *w)
{
	int rc;

	state_end_section(w);
	state_finish(w);
	join_open(j, 1000);
	rc = labels_restore(j->l, &w->b);
	state_writer_free(w);
	return rc;
}

/*
 * A checkpoint whose join section ends before what it says it holds (of
 * another program, or a build that wrote it otherwise) is refused as a
 * whole: nothing it held before the end waits, and the clocks it had
 * (at 1000) do not expire what comes (at 100).
 */
static void
test_checkpoint_read_in_part_keeps_nothing(void **state)
{
	struct join j;
	struct state_writer w;

	(void)state;
	state_writer_init(&w);
	join_section(&w, 1000, 1000, 3, 1);
	state_put_u32(&w, 2);                   /* predictions: one of two */
	put_waiting(&w, 7, 995, 0.9);
	assert_int_not_equal(join_restore(&j, &w), 0);
	assert_double_near(PENDING(&j), 0, 0);
	predict(&j, 100, "x", "a");
	truth(&j, 101, "x", "a");
	assert_double_near(LABELLED(&j), 1, 0);
	assert_double_near(UNMATCHED(&j, "expired"), 0, 0);
	join_close(&j);
}

/*
 * A checkpoint's values are checked as a log's: a clock at +inf is not
 * taken (it would expire every prediction at once), nor a waiting
 * prediction or a pair whose confidence is outside [0, 1].
 */
static void
test_checkpoint_values_checked(void **state)
{
	struct join j;
	struct state_writer w;

	(void)state;
	state_writer_init(&w);
	join_section(&w, 100, INFINITY, 3, 1);
	state_put_u32(&w, 1);                           /* predictions */
	put_waiting(&w, 7, 100, 5.0);
	state_put_u32(&w, 0);                           /* labels */
	state_put_u32(&w, 3);                           /* pairs */
	put_pair(&w, "a", 0.8);
	put_pair(&w, "b", 1e300);
	put_pair(&w, "b", -0.5);
	state_put_u32(&w, 0);                           /* remembered */
	assert_int_equal(join_restore(&j, &w), 0);
	assert_double_near(PENDING(&j), 0, 0);
	assert_double_near(value(&j, "prediction_accuracy", NULL), 1, 0);
	predict(&j, 100, "x", "a");
	truth(&j, 101, "x", "b");
	assert_double_near(UNMATCHED(&j, "expired"), 0, 0);
	assert_double_near(value(&j, "prediction_accuracy", NULL), 0.5, 0);
	join_close(&j);
}

/*
 * A checkpoint of the build before ids were hashed with a key: hash
 * version 2, no key.  Its waiting predictions and remembered ids, by
 * another hash, are not known; its labelled window is.
 */
static void
test_checkpoint_before_the_key(void **state)
{
	struct join j;
	struct state_writer w;

	(void)state;
	state_writer_init(&w);
	join_section(&w, 100, 100, 2, 0);
	state_put_u32(&w, 1);                           /* predictions */
	put_waiting(&w, 7, 100, 0.9);
	state_put_u32(&w, 0);                           /* labels */
	state_put_u32(&w, 2);                           /* pairs */
	put_pair(&w, "a", 0.6);
	put_pair(&w, "b", 0.7);
	state_put_u32(&w, 1);                           /* remembered */
	state_put_u64(&w, 9);
	state_put_double(&w, 100);
	assert_int_equal(join_restore(&j, &w), 0);
	assert_double_near(PENDING(&j), 0, 0);
	assert_double_near(value(&j, "prediction_accuracy", NULL), 0.5, 0);
	join_close(&j);
}

/*
 * The id hash is the same on every build of a byte order (a checkpoint
 * moved keeps its ids): with key 0x0123456789abcdef, the hashes of ids of
 * each length class strmap_words() has and one hashed 16 bytes at a time
 * before, as a separate implementation of id_hash()'s definition (128-bit
 * products of Python's integers) computes them on a little-endian
 * machine.  And the product without 128-bit integers, what a 32-bit build
 * hashes with, equals the one with.
 */
static void
test_id_hash_known_answers(void **state)
{
	static const struct {
		const char *id;
		uint64_t hash;
	} known[] = {
		{ "r7", 0xc0bf3260d1a7c7e9ull },
		{ "abcdef", 0xabba3cefbe0bf09bull },
		{ "abcdefghijk", 0x355d0ad995ac3c02ull },
		{ "5f0c2a9e-7d41-4b8e-a3c6-1e9d7b2f4a60", 0x1e68638d13bd3500ull },
	};
	const size_t n = sizeof(known) / sizeof(known[0]);
	struct join j;
	struct state_writer w;
	struct state_reader r;
	size_t i, len;
	uint64_t a = 0x243f6a8885a308d3ull, b = 0x13198a2e03707344ull;
	int k;

	(void)state;
	state_writer_init(&w);
	join_section(&w, -INFINITY, -INFINITY, 3, 0x0123456789abcdefull);
	for (k = 0; k < 4; k++)
		state_put_u32(&w, 0);   /* predictions, labels, pairs, ids */
	assert_int_equal(join_restore(&j, &w), 0);
	for (i = 0; i < n; i++)
		predict(&j, 100, known[i].id, "a");
	state_writer_init(&w);
	labels_save(j.l, &w);
	state_finish(&w);
	assert_int_equal(state_section(&w.b, STATE_TAG_JOIN, &r), 0);
	state_get_u32(&r);                              /* regression */
	state_get_string(&r, &len);                     /* segment */
	state_get_double(&r);                           /* clocks */
	state_get_double(&r);
	for (k = 0; k < 2; k++) {                       /* names */
		uint32_t names = state_get_u32(&r);

		while (names-- > 0)
			state_get_string(&r, &len);
	}
	state_get_u32(&r);                              /* version */
	assert_true(state_get_u64(&r) == 0x0123456789abcdefull);
	assert_int_equal(state_get_u32(&r), n);         /* predictions */
	for (i = 0; i < n; i++) {
		uint64_t h = state_get_u64(&r);

		if (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ &&
		    h != known[i].hash)
			fail_msg("id %s: hash %#llx, not %#llx", known[i].id,
			    (unsigned long long)h,
			    (unsigned long long)known[i].hash);
		state_get_double(&r);                   /* time */
		state_get_u64(&r);                      /* outcome */
		state_get_double(&r);                   /* confidence */
		state_get_u32(&r);                      /* class */
		state_get_u32(&r);                      /* segment */
	}
	assert_false(r.bad);
	state_writer_free(&w);
	join_close(&j);

	for (i = 0; i < 100000; i++) {
		assert_true(strmap_mul_fold_words(a, b) ==
		    strmap_mul_fold(a, b));
		a = a * 6364136223846793005ull + 1442695040888963407ull;
		b ^= a >> 17 | a << 47;
	}
	assert_true(strmap_mul_fold_words(UINT64_MAX, UINT64_MAX) ==
	    strmap_mul_fold(UINT64_MAX, UINT64_MAX));
	assert_true(strmap_mul_fold_words(0, UINT64_MAX) == 0);
}

/* A record with its label inline enters the labelled window after the
 * pairs of what was read before it: with a window of one pair, the last
 * read is the one the window holds. */
static void
test_inline_label_after_the_batch(void **state)
{
	struct join j;

	(void)state;
	join_open(&j, 1);
	predict(&j, 100, "q1", "a");
	truth(&j, 101, "q1", "b");                          /* wrong */
	line(&j, 102, "{\"rid\":\"q2\",\"prediction\":\"a\","
	    "\"truth\":\"a\"}");                             /* right */
	assert_double_near(LABELLED(&j), 2, 0);
	assert_double_near(value(&j, "prediction_accuracy", NULL), 1, 0);
	join_close(&j);
}

/*
 * A record with its id, prediction and label is joined at once through
 * the join: a label or prediction for its id after it is a duplicate; a
 * label for its id before it waits, and its prediction joins that one
 * (the record's own label is then the second, a duplicate).
 */
static void
test_inline_label_with_an_id(void **state)
{
	struct join j;

	(void)state;
	join_open(&j, 1000);
	line(&j, 100, "{\"rid\":\"r1\",\"prediction\":\"a\","
	    "\"truth\":\"a\"}");
	assert_double_near(LABELLED(&j), 1, 0);
	truth(&j, 101, "r1", "b");
	predict(&j, 101, "r1", "b");
	assert_double_near(UNMATCHED(&j, "duplicate"), 2, 0);
	truth(&j, 102, "r2", "b");
	line(&j, 103, "{\"rid\":\"r2\",\"prediction\":\"a\","
	    "\"truth\":\"a\"}");
	assert_double_near(LABELLED(&j), 2, 0);
	assert_double_near(UNMATCHED(&j, "duplicate"), 3, 0);
	assert_double_near(value(&j, "prediction_accuracy", NULL), 0.5, 0);
	labels_tick(j.l, 200);
	assert_double_near(UNMATCHED(&j, "unknown_id"), 0, 0);
	assert_double_near(UNMATCHED(&j, "expired"), 0, 0);
	assert_double_near(PENDING(&j), 0, 0);
	join_close(&j);
}

/*
 * Many predictions and labels across batch boundaries: labels 3 lines
 * after their predictions, every seventh label for an unknown id, every
 * eleventh prediction labelled twice, every thirteenth never; counts and
 * pending checked after each of 1000 lines (each check collects, which
 * takes the batch begun, at every phase of it) and at the end.
 */
static void
test_counts_across_batches(void **state)
{
	struct join j;
	unsigned long labelled = 0, unknown = 0, dup = 0;
	int i, n = 1000;
	char id[32];

	(void)state;
	join_open(&j, 1000);
	for (i = 0; i < n; i++) {
		double t = 100 + i * 0.001;

		snprintf(id, sizeof(id), "p%d", i);
		predict(&j, t, id, "a");
		if (i >= 3 && (i - 3) % 13 != 0) {
			snprintf(id, sizeof(id), "p%d", i - 3);
			truth(&j, t, id, "a");
			labelled++;
			if ((i - 3) % 11 == 0) {
				truth(&j, t, id, "a");
				dup++;
			}
		}
		if (i % 7 == 0) {
			snprintf(id, sizeof(id), "u%d", i);
			truth(&j, t, id, "a");
			unknown++;
		}
		if (i % 97 == 0 || i == n - 1) {
			assert_double_near(LABELLED(&j), (double)labelled, 0);
			assert_double_near(UNMATCHED(&j, "duplicate"),
			    (double)dup, 0);
		}
	}
	/* Unknown ids wait for their prediction until the predictions'
	 * clock passes them by max_delay. */
	labels_tick(j.l, 200);
	assert_double_near(UNMATCHED(&j, "unknown_id"), (double)unknown, 0);
	assert_double_near(UNMATCHED(&j, "expired"),
	    (double)(n - labelled), 0);
	assert_double_near(PENDING(&j), 0, 0);
	join_close(&j);
}

/*
 * Labels that come before their predictions and wait, their classes named
 * already by earlier pairs (a label's class then travels as its id, and
 * its text is written out only when it waits) or not: through a
 * checkpoint restored into a new join, each joins its prediction with
 * its own class.
 */
static void
test_labels_first_keep_their_class(void **state)
{
	struct join j;

	(void)state;
	join_open(&j, 1000);
	predict(&j, 100, "n1", "alpha");
	truth(&j, 100, "n1", "alpha");
	predict(&j, 100, "n2", "beta");
	truth(&j, 100, "n2", "beta");
	truth(&j, 101, "w1", "beta");            /* named: waits */
	truth(&j, 101, "w2", "alpha");           /* named: waits */
	truth(&j, 101, "w3", "gamma");           /* not named yet */
	assert_double_near(PENDING(&j), 0, 0);   /* labels, not predictions */
	join_restart(&j, 1000);
	predict(&j, 102, "w1", "beta");          /* right */
	predict(&j, 102, "w2", "beta");          /* wrong: truth alpha */
	predict(&j, 102, "w3", "gamma");         /* right */
	assert_double_near(LABELLED(&j), 3, 0);  /* since the restart */
	assert_double_near(value(&j, "prediction_accuracy", NULL), 0.8, 1e-12);
	assert_double_near(value(&j, "prediction_class_recall", "alpha"), 0.5,
	    1e-12);
	assert_double_near(value(&j, "prediction_class_recall", "beta"), 1,
	    1e-12);
	assert_double_near(value(&j, "prediction_class_precision", "beta"),
	    2.0 / 3, 1e-12);
	assert_double_near(value(&j, "prediction_class_recall", "gamma"), 1,
	    1e-12);
	assert_double_near(UNMATCHED(&j, "unknown_id"), 0, 0);
	join_close(&j);

	/* The same without the checkpoint between. */
	join_open(&j, 1000);
	predict(&j, 100, "n1", "alpha");
	truth(&j, 100, "n1", "alpha");
	truth(&j, 101, "w2", "alpha");
	predict(&j, 102, "w2", "beta");
	assert_double_near(value(&j, "prediction_accuracy", NULL), 0.5, 1e-12);
	assert_double_near(value(&j, "prediction_class_recall", "alpha"), 0.5,
	    1e-12);
	join_close(&j);
}

/*
 * Joined ids are remembered by ring positions that count on past the
 * ring's size: far more joins than positions (2^21), with at most 1000
 * remembered, still tell a second label for an id joined lately (a
 * duplicate) from one for an id forgotten (unknown: it waits, and gives
 * up when the predictions' clock has passed it by max_delay).
 */
static void
test_remembered_past_the_positions(void **state)
{
	struct join j;
	unsigned long dup = 0, unknown = 0, i, n = 2300000;
	char id[32], old[32];

	(void)state;
	join_open_with(&j, 10, "max_pending = 1000\n");
	for (i = 0; i < n; i++) {
		double t = 100 + (double)i * 1e-6;

		snprintf(id, sizeof(id), "r%lu", i);
		event(&j, t, id, "a", NULL);
		event(&j, t, id, NULL, "a");
		if (i % 997 == 996) {
			snprintf(old, sizeof(old), "r%lu", i - 10);
			event(&j, t, old, NULL, "a");      /* remembered */
			dup++;
			snprintf(old, sizeof(old), "r%lu", i - 5000);
			event(&j, t, old, NULL, "a");      /* forgotten */
			unknown++;
		}
	}
	assert_double_near(LABELLED(&j), (double)n, 0);
	assert_double_near(UNMATCHED(&j, "duplicate"), (double)dup, 0);
	labels_tick(j.l, 200);
	assert_double_near(UNMATCHED(&j, "unknown_id"), (double)unknown, 0);
	assert_double_near(UNMATCHED(&j, "evicted"), 0, 0);
	assert_double_near(PENDING(&j), 0, 0);
	join_close(&j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tick_takes_the_batch_first),
		cmocka_unit_test(test_checkpoint_takes_the_batch),
		cmocka_unit_test(test_checkpoint_of_an_earlier_build),
		cmocka_unit_test(test_ids_hashed_with_a_key_of_their_own),
		cmocka_unit_test(test_checkpoint_read_in_part_keeps_nothing),
		cmocka_unit_test(test_checkpoint_values_checked),
		cmocka_unit_test(test_checkpoint_before_the_key),
		cmocka_unit_test(test_id_hash_known_answers),
		cmocka_unit_test(test_inline_label_after_the_batch),
		cmocka_unit_test(test_inline_label_with_an_id),
		cmocka_unit_test(test_counts_across_batches),
		cmocka_unit_test(test_labels_first_keep_their_class),
		cmocka_unit_test(test_remembered_past_the_positions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
