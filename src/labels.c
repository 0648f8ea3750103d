/*
 * labels.c - the join of labels to predictions, and the labelled window.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "columns.h"
#include "ingest.h"
#include "labels.h"
#include "log.h"
#include "strmap.h"
#include "util.h"
#include "window.h"

/* The join's steps, inlined into the batch's loop and each other: GCC
 * leaves most of them out of line (each has several callers), and the
 * calls' saved and restored registers were a fifth of the join's
 * instructions (callgrind), more than many a step's own work. */
#define STEP static inline __attribute__((always_inline))
/* A condition of the join's that seldom holds (an expiry, an eviction, a
 * table to rebuild, a class text longer than a block): its code out of the
 * way of the common path's. */
#define RARELY(c) __builtin_expect(!!(c), 0)

#define NIL UINT32_MAX
#define NO_SEGMENT 0xffffu
#define ECE_BINS 10
/* Short class texts in blocks of TEXT_BLOCK bytes; longer ones each
 * allocated (see text_alloc()). */
#define TEXT_BLOCK 48

enum {
	F_LABELLED, F_UNMATCHED, F_PENDING, F_ACCURACY, F_PRECISION, F_RECALL,
	F_F1, F_MAE, F_RMSE, F_ERROR_MEAN, F_CALIBRATION, F_EXPECTED, F_COUNT
};

static const struct metrics_desc descs[F_COUNT] = {
	[F_LABELLED] = { "prediction_labelled_total", METRICS_COUNTER,
	    "Predictions joined to their label.", { "model", NULL } },
	[F_UNMATCHED] = { "prediction_label_unmatched_total", METRICS_COUNTER,
	    "Predictions and labels that found no partner, by reason: expired "
	    "(a prediction without its label within max_delay), evicted (a "
	    "prediction dropped beyond max_pending), unknown_id (a label "
	    "without its prediction within max_delay), duplicate (a second "
	    "label, or a second prediction, for one id), invalid (a label "
	    "line without a usable id or label).",
	    { "model", "reason", NULL } },
	[F_PENDING] = { "prediction_label_pending", METRICS_GAUGE,
	    "Predictions waiting for their label now.", { "model", NULL } },
	[F_ACCURACY] = { "prediction_accuracy", METRICS_GAUGE,
	    "Share of the labelled window predicted right; segment=\"\" is the "
	    "whole window.", { "model", "segment", NULL } },
	[F_PRECISION] = { "prediction_class_precision", METRICS_GAUGE,
	    "Precision per class over the labelled window.",
	    { "model", "class", NULL } },
	[F_RECALL] = { "prediction_class_recall", METRICS_GAUGE,
	    "Recall per class over the labelled window.",
	    { "model", "class", NULL } },
	[F_F1] = { "prediction_class_f1", METRICS_GAUGE,
	    "F1 score per class over the labelled window.",
	    { "model", "class", NULL } },
	[F_MAE] = { "prediction_mae", METRICS_GAUGE,
	    "Mean absolute error over the labelled window; segment=\"\" is the "
	    "whole window.", { "model", "segment", NULL } },
	[F_RMSE] = { "prediction_rmse", METRICS_GAUGE,
	    "Root mean squared error over the labelled window.",
	    { "model", NULL } },
	[F_ERROR_MEAN] = { "prediction_error_mean", METRICS_GAUGE,
	    "Mean of prediction minus truth over the labelled window.",
	    { "model", NULL } },
	[F_CALIBRATION] = { "prediction_calibration_error", METRICS_GAUGE,
	    "Expected calibration error of the confidence over the labelled "
	    "window (10 equal-width bins).", { "model", NULL } },
	[F_EXPECTED] = { "prediction_expected_accuracy", METRICS_GAUGE,
	    "Mean confidence over the window: a calibrated classifier's "
	    "accuracy, known before any label.", { "model", NULL } },
};

enum reason { R_EXPIRED, R_EVICTED, R_UNKNOWN, R_DUPLICATE, R_INVALID,
	R_COUNT };
static const char *const reason_names[R_COUNT] = {
	"expired", "evicted", "unknown_id", "duplicate", "invalid",
};

/* A prediction's side of a pair: its value (regression) or its class,
 * by id (for the per-class figures) and by the hash of its label (for
 * right and wrong, exact beyond max_classes too). */
union outcome {
	double value;
	uint64_t hash;
};

/* What an entry is: a prediction waiting for its label, or a label that
 * came first waiting for its prediction. */
enum { K_PREDICTION, K_LABEL, K_COUNT };

/* One entry: 48 bytes, what driftd.conf(5) says a waiting prediction
 * costs beyond its slots.  An id is known by its 64-bit hash alone, as a
 * remembered one is (see struct seen): no entry keeps an id's text. */
struct entry {
	uint16_t kind;          /* K_PREDICTION or K_LABEL */
	uint16_t cls;           /* class id (a label's: of the truth, when
	                         * it has no text) */
	uint16_t segment;       /* segment id, or NO_SEGMENT */
	uint16_t unused;
	uint64_t hash;          /* of the id (id_hash()) */
	double time;            /* the prediction's or the label's */
	union outcome pred;     /* a label's: the truth */
	union {
		double confidence;      /* a prediction's; NaN: none */
		struct {                /* a label's text, until joined */
			uint32_t ref;   /* TEXT_NONE: none (regression, or a
			                 * class named already: cls) */
			uint32_t len;
		} text;
	} u;
	uint32_t prev, next;    /* in its list, oldest first */
};

_Static_assert(sizeof(struct entry) == 48, "an entry is 48 bytes");

struct list {
	uint32_t head, tail;
	size_t n;
};

/*
 * The ids joined recently, remembered so that another label or
 * prediction for one is a duplicate: by the 64-bit hash of the id (two of
 * n ids remembered share one with a chance of about n^2 / 2^65), in a
 * ring, oldest first, with the time of the side that waited, and in the
 * entries' table by their positions (see table_find()).  A position
 * counts on modulo RING_POSITIONS, past the ring's size (a power of two
 * that divides it), which places it at the position modulo the size:
 * forgetting only moves the ring's head, and the table slot of a
 * position it passed is stale, free for new entries, until the positions
 * come round again, RING_POSITIONS - n ids later (were a position its
 * place, the slots of the ids forgotten would look live as soon as new
 * ids took their places, and stay taken until the table is rebuilt).
 * An id remembered costs 16 bytes (up to twice that in a ring part
 * empty) and its slots, not an entry.
 */
struct seen {
	uint64_t hash;
	double time;
};

struct seen_set {
	struct seen *ring;
	size_t cap, head, n;         /* cap: a power of two; head: a
	                              * position */
};

/*
 * Predictions and labels read and not yet joined are queued as the
 * entries they would wait as (a label's class text copied to a block
 * unless the class is named already).  The join takes them JOIN_BATCH at
 * a time, so that the table's slots of a batch are fetched at once: each
 * is a miss of the caches, and they overlap rather than come one after
 * another.
 */
#define JOIN_BATCH 32

/* A joined pair in the labelled window. */
struct pair {
	union outcome pred, truth;
	double confidence;
	uint32_t pred_cls, true_cls, segment;
};

/* Labels to small ids, up to a cap; beyond it, `other`.  The labels
 * looked up last are kept with their hash and id: a model has few
 * classes, and each prediction and label looks one up. */
#define NAMES_CACHE 16
#define NAMES_CACHED_BYTES 32

struct names {
	struct strmap *map;
	char **v;
	size_t n, cap;
	struct {
		uint32_t len, id;    /* len 0: empty */
		uint64_t hash;
		uint64_t a, b;       /* strmap_words() */
		char s[NAMES_CACHED_BYTES];
	} cache[NAMES_CACHE];
};

struct labels {
	const struct conf *conf;
	int joining, regression;
	double max_delay;                /* seconds */
	size_t max_pending;
	struct record_parser *parser;    /* of the [labels] logs */
	int parser_has_time;             /* [labels] timestamp is set */
	struct record rec;
	long segment_feature;            /* index in the record, or -1 */
	/* the join */
	struct entry *e;
	uint32_t ecap, eused, efree;
	struct list lists[K_COUNT];      /* oldest first */
	struct seen_set seen;
	/* The newest time read of predictions and of labels: a prediction
	 * waits until the labels read have passed its time by max_delay, a
	 * label until the predictions read have.  A side whose times are
	 * arrival times is also moved on by the clock (labels_tick()). */
	double clock[K_COUNT];
	int event_time[K_COUNT];
	/* Predictions and labels read and not joined yet (take_events()),
	 * in the order they were read. */
	struct entry queue[JOIN_BATCH];
	size_t nqueued;
	uint64_t id_key;                 /* see id_hash() */
	uint32_t *slots;                 /* see table_put() */
	size_t mask, used;               /* used: entries and tombstones */
	uint32_t textfree;               /* free blocks, a list */
	char *blocks;
	size_t nblocks, blocks_cap;
	char **big;                      /* strings beyond TEXT_BLOCK */
	uint32_t nbig, bigfree;
	/* the labelled window */
	struct pair *pairs;
	size_t wsize, wn, whead;         /* whead: the oldest */
	struct names classes, segments;
	/* series */
	struct metrics_registry *reg;
	struct metrics_family *fam[F_COUNT];
	struct metrics_series *labelled, *unmatched[R_COUNT], *pending;
	struct window *window;
	struct columns *columns;
	struct buf scratch;              /* confidences, per-class counts */
};

/* ---------------------------------------------------------------- names */

#define OTHER_NAME "__other__"

static void
names_init(struct names *n, size_t cap)
{
	n->map = strmap_create();
	n->v = NULL;
	n->n = 0;
	n->cap = cap;
}

static void
names_free(struct names *n)
{
	size_t i;

	for (i = 0; i < n->n; i++)
		free(n->v[i]);
	free(n->v);
	strmap_destroy(n->map);
}

/* The id of a label: new ones numbered in order up to the cap, then
 * `cap` (the id of __other__) for all. */
static uint32_t
names_id(struct names *n, const char *s, size_t len)
{
	void *v = strmap_get(n->map, s, len);

	if (v != NULL)
		return (uint32_t)((uintptr_t)v - 1);
	if (n->n >= n->cap)
		return (uint32_t)n->cap;
	n->v = xreallocarray(n->v, n->n + 1, sizeof(*n->v));
	n->v[n->n] = xmalloc(len + 1);
	memcpy(n->v[n->n], s, len);
	n->v[n->n][len] = '\0';
	strmap_put(n->map, s, len, (void *)(uintptr_t)(n->n + 1));
	return (uint32_t)n->n++;
}

#define NAMES_NONE UINT32_MAX

/* A label's place in the cache: its words (strmap_words(), into *a and
 * *b) and length multiplied and folded (a model's few classes rarely
 * share one). */
STEP size_t
names_place(const char *s, size_t len, uint64_t *a, uint64_t *b)
{
	strmap_words(s, len, a, b);
	return (size_t)(((*a ^ (*b >> 1) ^ len) * 0x9E3779B97F4A7C15ull) >>
	    60) % NAMES_CACHE;
}

/* The id of a label in the cache and its hash (strmap_hash()), or
 * NAMES_NONE when the cache does not hold it; compared without memcmp()
 * up to 16 bytes. */
STEP uint32_t
names_cached(const struct names *n, const char *s, size_t len,
    uint64_t *hash)
{
	uint64_t a, b;
	size_t k = names_place(s, len, &a, &b);

	if (n->cache[k].len == len && len > 0 && n->cache[k].a == a &&
	    n->cache[k].b == b &&
	    (len <= 16 || memcmp(n->cache[k].s, s, len) == 0)) {
		*hash = n->cache[k].hash;
		return n->cache[k].id;
	}
	return NAMES_NONE;
}

/* The id of a label and its hash (strmap_hash()), named if it is new and
 * the cap allows. */
STEP uint32_t
names_lookup(struct names *n, const char *s, size_t len, uint64_t *hash)
{
	uint64_t a, b;
	size_t k;
	uint32_t id = names_cached(n, s, len, hash);

	if (id != NAMES_NONE)
		return id;
	k = names_place(s, len, &a, &b);
	*hash = strmap_hash(s, len);
	if (len > 0 && len <= NAMES_CACHED_BYTES) {
		n->cache[k].len = (uint32_t)len;
		n->cache[k].a = a;
		n->cache[k].b = b;
		memcpy(n->cache[k].s, s, len);
		n->cache[k].hash = *hash;
		n->cache[k].id = names_id(n, s, len);
		return n->cache[k].id;
	}
	return names_id(n, s, len);
}

static const char *
names_name(const struct names *n, uint32_t id)
{
	return id < n->n ? n->v[id] : OTHER_NAME;
}

/* ------------------------------------------------------------------ ids */

/*
 * The class texts of waiting labels whose class is not named yet (a
 * label's class is named only once it is joined): up to TEXT_BLOCK bytes
 * in blocks of that size in one array, grown twice as large when full, a
 * freed block going to a free list to be used again, so that the join
 * allocates nothing in steady state and the blocks never outnumber the
 * texts that ever waited at once; longer ones allocated one by one.  A
 * text is known by a 32-bit reference: a block's number, or with TEXT_BIG
 * set an index into l->big.  (A text's address is good until the next
 * text_alloc().)
 */
#define TEXT_NONE UINT32_MAX
#define TEXT_BIG 0x80000000u

_Static_assert(2 * K_COUNT * (uint64_t)CONF_LABELS_MAX_PENDING < TEXT_BIG,
    "block numbers fit a reference");

static char *
text_ptr(const struct labels *l, uint32_t ref)
{
	if (RARELY(ref & TEXT_BIG))
		return l->big[ref & ~TEXT_BIG];
	return l->blocks + (size_t)ref * TEXT_BLOCK;
}

STEP uint32_t
text_alloc(struct labels *l, const char *text, size_t len)
{
	uint32_t ref;

	if (RARELY(len > TEXT_BLOCK)) {
		if (l->bigfree != TEXT_NONE) {
			ref = l->bigfree;
			memcpy(&l->bigfree, &l->big[ref], sizeof(ref));
		} else {
			l->big = xreallocarray(l->big, l->nbig + 1,
			    sizeof(*l->big));
			ref = l->nbig++;
		}
		l->big[ref] = xmalloc(len);
		memcpy(l->big[ref], text, len);
		return ref | TEXT_BIG;
	}
	ref = l->textfree;
	if (ref != TEXT_NONE) {
		memcpy(&l->textfree, text_ptr(l, ref), sizeof(ref));
	} else {
		if (RARELY(l->nblocks == l->blocks_cap)) {
			l->blocks_cap = l->blocks_cap ? 2 * l->blocks_cap :
			    1024;
			l->blocks = xreallocarray(l->blocks, l->blocks_cap,
			    TEXT_BLOCK);
		}
		ref = (uint32_t)l->nblocks++;
	}
	memcpy(text_ptr(l, ref), text, len);
	return ref;
}

STEP void
text_release(struct labels *l, uint32_t ref)
{
	if (RARELY(ref & TEXT_BIG)) {
		ref &= ~TEXT_BIG;
		free(l->big[ref]);
		/* The free index list threads through the pointers. */
		memcpy(&l->big[ref], &l->bigfree, sizeof(l->bigfree));
		l->bigfree = ref;
		return;
	}
	memcpy(text_ptr(l, ref), &l->textfree, sizeof(ref));
	l->textfree = ref;
}

/* -------------------------------------------------------------- entries */

/*
 * The 64-bit hash of an id.  Every prediction's and label's id is hashed
 * once, so it should be quick: 16 bytes at a time, each step one 64 x 64
 * -> 128-bit multiplication whose halves are folded together, rather
 * than strmap_hash()'s 8 bytes per two multiplications in a chain.  Ids
 * are known by this hash alone, waiting and remembered (a checkpoint
 * holds it), so it may not change without ID_HASH_VERSION: a checkpoint
 * of another version's loses them.  The hash is the same on every build
 * of one byte order (the id's words are loaded as they lie); the version
 * tells the byte orders apart.
 *
 * Request ids are often a client's to choose (a header the model service
 * logs), so the hash is keyed by a random number (l->id_key, drawn when
 * the join starts and kept in its checkpoint): without it, one could
 * write ids whose hashes share a slot, and every probe would pass them
 * all, or share the hash, and be taken for one.  The key enters each
 * constant an id's words are combined with, so that no word can be
 * chosen to cancel one (a factor of 0 forgets what came before).
 */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define ID_HASH_VERSION 0x103u
#else
#define ID_HASH_VERSION 3u
#endif

static uint64_t
id_hash(uint64_t key, const char *id, size_t len)
{
	const uint64_t k0 = 0x9e3779b97f4a7c15ull ^ key;
	const uint64_t k1 = 0xbf58476d1ce4e5b9ull ^ key;
	const uint64_t k2 = 0x94d049bb133111ebull ^ key;
	const unsigned char *p = (const unsigned char *)id;
	uint64_t h = k0 ^ len, a = 0, b = 0;

	while (len > 16) {
		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		h = strmap_mul_fold(a ^ k1, b ^ h);
		p += 16;
		len -= 16;
	}
	strmap_words(p, len, &a, &b);
	return strmap_mul_fold(strmap_mul_fold(a ^ k2, b ^ h) ^ k1, h ^ k2);
}

/* A key for id_hash(): from the kernel's random numbers, or when it has
 * none yet (early in boot), from the clock and the process. */
static uint64_t
id_key(void)
{
	uint64_t k;

	if (getrandom(&k, sizeof(k), GRND_NONBLOCK) == (ssize_t)sizeof(k))
		return k;
	k = (uint64_t)(util_now() * 1e9) ^ (uint64_t)getpid() << 40 ^
	    (uint64_t)(uintptr_t)&k;
	k *= 0xd6e8feb86659fd93ull;
	return k ^ k >> 32;
}

/* The 32 bits of an id's hash the tables use. */
static uint32_t
fold(uint64_t h)
{
	return (uint32_t)(h ^ h >> 32);
}

STEP void
list_push(struct labels *l, struct list *li, uint32_t i)
{
	l->e[i].prev = li->tail;
	l->e[i].next = NIL;
	if (li->tail != NIL)
		l->e[li->tail].next = i;
	else
		li->head = i;
	li->tail = i;
	li->n++;
}

STEP void
list_unlink(struct labels *l, struct list *li, uint32_t i)
{
	struct entry *x = &l->e[i];

	if (x->prev != NIL)
		l->e[x->prev].next = x->next;
	else
		li->head = x->next;
	if (x->next != NIL)
		l->e[x->next].prev = x->prev;
	else
		li->tail = x->prev;
	li->n--;
}

#define RING_BITS 21
#define RING_POSITIONS ((size_t)1 << RING_BITS)

/* Ring position i + k. */
static size_t
ring_at(size_t i, size_t k)
{
	return (i + k) & (RING_POSITIONS - 1);
}

/* The remembered id at position p. */
static struct seen *
seen_at(const struct seen_set *z, size_t p)
{
	return &z->ring[p & (z->cap - 1)];
}

/* Is ring position p among the ids remembered? */
static int
seen_live(const struct seen_set *z, size_t p)
{
	return ((p - z->head) & (RING_POSITIONS - 1)) < z->n;
}

/*
 * The table: open addressing with linear probing over 4-byte slots, for
 * the waiting entries and the ids remembered alike, so that one probe
 * finds an id's entry or says it was joined, and a join turns its
 * entry's slot into its remembered id's.  A slot is empty (0), a
 * tombstone (1), or in its low SLOT_BITS bits an entry's index + 2 or,
 * with SLOT_RING, a ring position and 4 more bits of the id's hash, and
 * 6 bits of the id's hash above them, so that a probe rarely looks at
 * an entry, and more rarely at a ring position (the ring is large and
 * each look a miss of the caches), that is not the one sought.  Removing
 * an entry leaves a tombstone; a ring position the ring's head has passed
 * is stale and counts as one.  The table is rebuilt, at most half full,
 * when its used slots fill three quarters of it.
 */
#define SLOT_BITS 26
#define SLOT_RING (1u << 25)
#define SLOT_EMPTY 0u
#define SLOT_TOMB 1u
#define SLOT_INDEX(v) (((v) & (SLOT_RING - 1)) - 2)
#define SLOT_TAG(h) ((h) >> SLOT_BITS)
#define RING_POSITION(v) ((v) & (RING_POSITIONS - 1))
/* The 4 bits of a 64-bit id hash a ring slot has beside its position:
 * the hash's top ones (fold() mixes them into the tag's only through an
 * exclusive or with other bits). */
#define RING_TAG(hash) ((uint32_t)((hash) >> 60) << RING_BITS)
#define RING_TAG_MASK (15u << RING_BITS)

_Static_assert(K_COUNT * CONF_LABELS_MAX_PENDING + 2 < SLOT_RING,
    "entry indexes fit a slot");
_Static_assert(RING_BITS + 4 == 25, "a ring slot's fields fill its bits");
/* The ring holds up to max_pending ids in a power of two at most half the
 * positions: a forgotten id's position stays stale for as many again. */
_Static_assert(2 * CONF_LABELS_MAX_PENDING <= RING_POSITIONS,
    "ring positions outnumber the ids remembered twice");

static uint32_t
slot_of(uint32_t i, uint32_t h)
{
	return (i + 2) | SLOT_TAG(h) << SLOT_BITS;
}

/* The slot of ring position p, of an id of hash `hash`. */
static uint32_t
ring_slot(size_t p, uint64_t hash)
{
	return (uint32_t)p | RING_TAG(hash) | SLOT_RING |
	    SLOT_TAG(fold(hash)) << SLOT_BITS;
}

/* Is slot value v free for an entry: empty, a tombstone or stale? */
static int
slot_free(const struct labels *l, uint32_t v)
{
	return v <= SLOT_TOMB ||
	    ((v & SLOT_RING) && !seen_live(&l->seen, RING_POSITION(v)));
}

/* Slot value v into free slot s. */
static void
table_set(struct labels *l, size_t s, uint32_t v)
{
	if (l->slots[s] == SLOT_EMPTY)
		l->used++;
	l->slots[s] = v;
}

/* Slot value v (an entry or a ring position) into the table. */
static void
table_put(struct labels *l, uint32_t v, uint32_t h)
{
	size_t s = h & l->mask;

	while (!slot_free(l, l->slots[s]))
		s = (s + 1) & l->mask;
	table_set(l, s, v);
}

/* Every waiting entry and remembered id into a fresh table at most half
 * full. */
static void
table_rebuild(struct labels *l)
{
	size_t size = 64, s, entries = 0, p;
	uint32_t i;
	int k;

	/* Every prediction's probe passes remembered ids: at most a quarter
	 * of the table, so that probes end sooner (entries, at most half,
	 * bound what a waiting prediction costs). */
	for (k = 0; k < K_COUNT; k++)
		entries += l->lists[k].n;
	while (size < 2 * (entries + 1) + 4 * l->seen.n)
		size *= 2;
	if (l->slots == NULL || size != l->mask + 1) {
		free(l->slots);
		l->slots = xreallocarray(NULL, size, sizeof(*l->slots));
	}
	for (s = 0; s < size; s++)
		l->slots[s] = SLOT_EMPTY;
	l->mask = size - 1;
	l->used = 0;
	for (k = 0; k < K_COUNT; k++)
		for (i = l->lists[k].head; i != NIL; i = l->e[i].next)
			table_put(l, slot_of(i, fold(l->e[i].hash)),
			    fold(l->e[i].hash));
	for (s = 0; s < l->seen.n; s++) {
		uint64_t hash;

		p = ring_at(l->seen.head, s);
		hash = seen_at(&l->seen, p)->hash;
		table_put(l, ring_slot(p, hash), fold(hash));
	}
}

/* Entry slot value v (of hash h), new and in no list yet, into the
 * table: at `hint`, the first free slot of the probe that found no entry
 * for its id since (SIZE_MAX: none), if it is still free. */
STEP void
table_insert(struct labels *l, uint32_t v, uint32_t h, size_t hint)
{
	size_t s = hint;

	if (RARELY(l->slots == NULL || 4 * (l->used + 1) > 3 * (l->mask + 1))) {
		table_rebuild(l);
		s = SIZE_MAX;
	}
	if (s == SIZE_MAX || !slot_free(l, l->slots[s]))
		table_put(l, v, h);
	else
		table_set(l, s, v);
}

/*
 * The waiting entry of the id (of 64-bit hash `hash`), or NIL.  *slot is
 * the entry's slot, or when there is none the first free slot of the
 * probe (for table_insert()); *joined is set when the id was joined with
 * a side whose time is within max_delay before t (an id remembered may
 * wait again once that time has passed).  Tombstones and stale ring
 * positions seen before an entry are not free slots to its probe's
 * caller: they are passed over, not reported.
 */
STEP uint32_t
table_find(const struct labels *l, uint64_t hash, double t, size_t *slot,
    int *joined)
{
	const struct seen_set *z = &l->seen;
	const uint32_t *slots = l->slots;
	const size_t mask = l->mask;
	uint32_t h = fold(hash), tag = SLOT_TAG(h), rtag = RING_TAG(hash), v;
	size_t s, hint = SIZE_MAX;

	*joined = 0;
	*slot = SIZE_MAX;
	if (slots == NULL)
		return NIL;
	for (s = h & mask; (v = slots[s]) != SLOT_EMPTY; s = (s + 1) & mask) {
		/* Most slots are another id's: one comparison passes them. */
		if (v >> SLOT_BITS == tag && v != SLOT_TOMB) {
			uint32_t i = SLOT_INDEX(v);

			if (v & SLOT_RING) {
				const struct seen *r = seen_at(z,
				    RING_POSITION(v));

				if ((v & RING_TAG_MASK) == rtag &&
				    seen_live(z, RING_POSITION(v)) &&
				    r->hash == hash &&
				    !(r->time + l->max_delay < t))
					*joined = 1;
			} else if (l->e[i].hash == hash) {
				*slot = s;
				return i;
			}
		}
		if (hint == SIZE_MAX && slot_free(l, v))
			hint = s;
	}
	*slot = hint != SIZE_MAX ? hint : s;
	return NIL;
}

/* Take entry i out of the table. */
static void
table_remove(struct labels *l, uint32_t i)
{
	uint32_t h = fold(l->e[i].hash);
	size_t s = h & l->mask;
	uint32_t want = slot_of(i, h);

	while (l->slots[s] != want)
		s = (s + 1) & l->mask;
	l->slots[s] = SLOT_TOMB;
}

/* A free entry, the pool grown when needed. */
STEP uint32_t
entry_new(struct labels *l)
{
	uint32_t i;

	if (RARELY(l->efree == NIL)) {
		if (l->eused == l->ecap) {
			size_t cap = l->ecap ? (size_t)l->ecap * 2 : 1024;

			if (cap > K_COUNT * l->max_pending)
				cap = K_COUNT * l->max_pending;
			l->e = xreallocarray(l->e, cap, sizeof(*l->e));
			l->ecap = (uint32_t)cap;
		}
		return l->eused++;
	}
	i = l->efree;
	l->efree = l->e[i].next;
	return i;
}

/* Release the block of entry x: a label's text, if it has one. */
STEP void
entry_release(struct labels *l, const struct entry *x)
{
	if (x->kind == K_LABEL && x->u.text.ref != TEXT_NONE)
		text_release(l, x->u.text.ref);
}

/* Drop entry i from list li and the pool (not from the table). */
STEP void
entry_free(struct labels *l, struct list *li, uint32_t i)
{
	list_unlink(l, li, i);
	entry_release(l, &l->e[i]);
	l->e[i].next = l->efree;
	l->efree = i;
}

/* Drop entry i from list li, the table and the pool. */
static void
entry_drop(struct labels *l, struct list *li, uint32_t i)
{
	table_remove(l, i);
	entry_free(l, li, i);
}

STEP void
count(struct labels *l, enum reason r)
{
	if (l->unmatched[r] != NULL)
		metrics_add(l->unmatched[r], 1);
}

/* ---------------------------------------------------------------- join */

/* Remember the id of hash `hash`, joined with a side that waited since
 * t, at the position returned; the oldest is forgotten beyond `max`. */
STEP size_t
seen_add(struct seen_set *z, uint64_t hash, double t, size_t max)
{
	size_t p;
	struct seen *r;

	if (z->n >= max) {
		z->head = ring_at(z->head, 1);
		z->n--;
	} else if (RARELY(z->n == z->cap)) {
		/* Twice the size: the positions stay, their places move. */
		size_t cap = z->cap ? 2 * z->cap : 1024, k;
		struct seen *ring = xreallocarray(NULL, cap, sizeof(*ring));

		for (k = 0; k < z->n; k++) {
			p = ring_at(z->head, k);
			ring[p & (cap - 1)] = *seen_at(z, p);
		}
		free(z->ring);
		z->ring = ring;
		z->cap = cap;
	}
	p = ring_at(z->head, z->n);
	r = seen_at(z, p);
	r->hash = hash;
	r->time = t;
	z->n++;
	return p;
}

STEP void
seen_expire(struct seen_set *z, double t, double delay)
{
	while (z->n > 0 && seen_at(z, z->head)->time + delay < t) {
		z->head = ring_at(z->head, 1);
		z->n--;
	}
	/* The head moves on about once a record, through memory written
	 * long ago: fetched a few lines ahead, it is not a miss each time
	 * it enters a new line. */
	if (z->n > 16)
		__builtin_prefetch(seen_at(z, ring_at(z->head, 16)));
}

/* Forget entry i (of list k), counting it as `r` (or not, R_COUNT). */
static void
forget(struct labels *l, int k, uint32_t i, enum reason r)
{
	entry_drop(l, &l->lists[k], i);
	if (r != R_COUNT)
		count(l, r);
}

/* What a waiting entry that finds no partner counts as. */
static const enum reason gone[] = {
	[K_PREDICTION] = R_EXPIRED, [K_LABEL] = R_UNKNOWN,
};

/* Side k's clock at t at least: the other side's entries that waited
 * longer than max_delay by it give up, and the ids remembered longer
 * than max_delay by both clocks are forgotten. */
STEP void
advance(struct labels *l, int k, double t)
{
	int other = k == K_PREDICTION ? K_LABEL : K_PREDICTION;
	struct list *li = &l->lists[other];

	if (!(t > l->clock[k]))
		return;
	l->clock[k] = t;
	while (RARELY(li->head != NIL &&
	    l->e[li->head].time + l->max_delay < t))
		forget(l, other, li->head, gone[other]);
	seen_expire(&l->seen, l->clock[K_PREDICTION] < l->clock[K_LABEL] ?
	    l->clock[K_PREDICTION] : l->clock[K_LABEL], l->max_delay);
}

static void take_events(struct labels *l) __attribute__((noinline));

void
labels_tick(struct labels *l, double now)
{
	int k;

	if (l == NULL || !l->joining || !isfinite(now))
		return;
	take_events(l);
	for (k = 0; k < K_COUNT; k++)
		if (!l->event_time[k])
			advance(l, k, now);
}

/* The pair of prediction `x` and truth `truth` into the window; counted
 * as labelled unless it comes from a checkpoint. */
STEP void
window_add(struct labels *l, const struct entry *x, union outcome truth,
    uint32_t true_cls, int counted)
{
	struct pair *p;

	if (l->wn < l->wsize) {
		p = &l->pairs[(l->whead + l->wn) % l->wsize];
		l->wn++;
	} else {
		p = &l->pairs[l->whead];
		/* wrapped without a division, slower than the rest here */
		if (++l->whead == l->wsize)
			l->whead = 0;
	}
	p->pred = x->pred;
	p->truth = truth;
	p->confidence = x->u.confidence;
	p->pred_cls = x->cls;
	p->true_cls = true_cls;
	p->segment = x->segment;
	if (counted && l->labelled != NULL)
		metrics_add(l->labelled, 1);
}

/* The truth of a label: its value, or the hash of its class and the
 * class's id. */
STEP void
truth_of(struct labels *l, const char *str, size_t len, double num,
    union outcome *truth, uint32_t *cls)
{
	if (l->regression) {
		truth->value = num;
		*cls = 0;
	} else {
		*cls = names_lookup(&l->classes, str, len, &truth->hash);
	}
}

/* Entry x (of kind k, with its block if it has one), new, waits at the
 * end of its list, in slot `hint` if it is still free (see
 * table_insert()); the oldest of its kind makes room beyond max_pending. */
STEP void
wait(struct labels *l, const struct entry *x, int k, size_t hint)
{
	int other = k == K_PREDICTION ? K_LABEL : K_PREDICTION;
	uint32_t i;

	/* The other side's clock has passed it by max_delay already. */
	if (RARELY(x->time + l->max_delay < l->clock[other])) {
		entry_release(l, x);
		count(l, gone[k]);
		return;
	}
	if (RARELY(l->lists[k].n >= l->max_pending))
		forget(l, k, l->lists[k].head, k == K_PREDICTION ? R_EVICTED :
		    gone[k]);
	i = entry_new(l);
	l->e[i] = *x;
	table_insert(l, slot_of(i, fold(x->hash)), fold(x->hash), hint);
	list_push(l, &l->lists[k], i);
}

/* Remember the id of hash `hash`, joined with a side that waited since
 * t: in `slot` (a joined entry's, SIZE_MAX: none) or a slot of its own. */
STEP void
remember(struct labels *l, uint64_t hash, double t, size_t slot)
{
	uint32_t h = fold(hash);
	size_t p = seen_add(&l->seen, hash, t, l->max_pending);

	if (RARELY(l->slots == NULL || (slot == SIZE_MAX &&
	    4 * (l->used + 1) > 3 * (l->mask + 1)))) {
		table_rebuild(l);       /* with it */
		return;
	}
	if (slot != SIZE_MAX)
		l->slots[slot] = ring_slot(p, hash);
	else
		table_put(l, ring_slot(p, hash), h);
}

/* Entry i (waiting, of list k, id hash `hash`, in `slot`) is joined: its
 * id is remembered from now on, in its slot, so that another prediction
 * or label for it is a duplicate. */
STEP void
joined(struct labels *l, int k, uint32_t i, uint64_t hash, size_t slot)
{
	double t = l->e[i].time;

	entry_free(l, &l->lists[k], i);
	l->slots[slot] = SLOT_TOMB;
	remember(l, hash, t, slot);
}

/*
 * The waiting entry of the id of entry x (of kind k), or NIL; an entry of
 * the id that waited longer than max_delay before x's time gives up now
 * (the lists expire from their oldest, and times may come out of order).
 * *dup is set when the id waits on x's side or was joined within
 * max_delay.
 */
STEP uint32_t
partner(struct labels *l, const struct entry *x, int k, int *dup,
    size_t *slot)
{
	int joined;
	uint32_t i = table_find(l, x->hash, x->time, slot, &joined);

	*dup = 0;
	if (RARELY(i != NIL && l->e[i].time + l->max_delay < x->time)) {
		forget(l, l->e[i].kind, i, gone[l->e[i].kind]);
		i = table_find(l, x->hash, x->time, slot, &joined);
	}
	if (i != NIL && l->e[i].kind == k) {
		*dup = 1;
		return NIL;
	}
	if (i == NIL && joined)
		*dup = 1;
	return i;
}

/* Event x (of kind k) joins the entry of the other side waiting for its
 * id, or waits for one.  (k is x->kind, a constant to each of the join's
 * two copies in take_events().) */
STEP void
join(struct labels *l, struct entry *x, int k)
{
	uint32_t i, cls;
	union outcome truth;
	size_t slot;
	int dup;

	advance(l, k, x->time);
	i = partner(l, x, k, &dup, &slot);
	if (RARELY(dup)) {
		/* A label for an id labelled or joined already; a prediction
		 * whose id waits or was joined: not the prediction a label
		 * for it judges. */
		count(l, R_DUPLICATE);
		entry_release(l, x);
		return;
	}
	if (i == NIL) {
		/* A waiting label's class is known by its text until it is
		 * joined: a label that never is takes no class name. */
		if (k == K_LABEL && !l->regression) {
			if (x->u.text.ref == TEXT_NONE)
				x->u.text.ref = text_alloc(l,
				    l->classes.v[x->cls], x->u.text.len);
			else
				x->pred.hash = strmap_hash(
				    text_ptr(l, x->u.text.ref), x->u.text.len);
		}
		wait(l, x, k, slot);
		return;
	}
	if (k == K_LABEL) {
		if (x->u.text.ref == TEXT_NONE) {
			/* a regression's value, or a class named already */
			truth = x->pred;
			cls = x->cls;
		} else {
			cls = names_lookup(&l->classes,
			    text_ptr(l, x->u.text.ref), x->u.text.len,
			    &truth.hash);
		}
		window_add(l, &l->e[i], truth, cls, 1);
	} else {
		/* The label came first (read from another log, ahead). */
		cls = 0;
		if (!l->regression)
			cls = names_lookup(&l->classes,
			    text_ptr(l, l->e[i].u.text.ref), l->e[i].u.text.len,
			    &l->e[i].pred.hash);
		window_add(l, x, l->e[i].pred, cls, 1);
	}
	joined(l, l->e[i].kind, i, x->hash, slot);
	entry_release(l, x);
}

/* The events queued, joined in the order they were read.  Everything that
 * reads or changes the join's state takes them first. */
static void
take_events(struct labels *l)
{
	size_t j, n = l->nqueued;

	if (n == 0)
		return;
	if (l->slots != NULL)
		for (j = 0; j < n; j++)
			__builtin_prefetch(&l->slots[fold(l->queue[j].hash) &
			    l->mask]);
	for (j = 0; j < n; j++) {
		struct entry *x = &l->queue[j];

		if (x->kind == K_PREDICTION)
			join(l, x, K_PREDICTION);
		else
			join(l, x, K_LABEL);
	}
	l->nqueued = 0;
}

/* The entry of the event queued next (queue()), zeroed, at time t. */
STEP struct entry *
event_entry(struct labels *l, double t)
{
	struct entry *x = &l->queue[l->nqueued];

	memset(x, 0, sizeof(*x));
	x->time = t;
	x->segment = NO_SEGMENT;
	return x;
}

/* Queue the entry of the next event (event_entry()), of kind k, with
 * the hash of its id. */
STEP void
queue(struct labels *l, int k, const struct record_value *id)
{
	struct entry *x = &l->queue[l->nqueued++];

	x->kind = (uint16_t)k;
	x->hash = id_hash(l->id_key, id->str, id->len);
	if (l->nqueued == JOIN_BATCH)
		take_events(l);
}

/* A label for id at time t, queued. */
static void
label(struct labels *l, const struct record_value *id,
    const struct record_value *lab, double t)
{
	struct entry *x = event_entry(l, t);

	x->u.text.ref = TEXT_NONE;
	if (l->regression) {
		x->pred.value = lab->num;
	} else {
		uint32_t cls = names_cached(&l->classes, lab->str, lab->len,
		    &x->pred.hash);

		/* A class named already is known by its id and hash (most
		 * are); any other by its text, until the label is joined. */
		x->u.text.len = (uint32_t)lab->len;
		if (cls < l->classes.n)
			x->cls = (uint16_t)cls;
		else
			x->u.text.ref = text_alloc(l, lab->str, lab->len);
	}
	queue(l, K_LABEL, id);
}

void
labels_prediction(struct labels *l, const struct record *rec, double t)
{
	struct entry *x;

	if (l == NULL || !l->joining)
		return;
	if (record_is_label(rec)) {
		if (rec->id.present)
			label(l, &rec->id, &rec->label, t);
		else
			count(l, R_INVALID);
		return;
	}
	if (RARELY(!(l->regression ? rec->value.present : rec->cls.present))) {
		/* A prediction the join cannot judge (a classifier's score
		 * without its class): its label, if any, is of no use. */
		if (rec->label.present)
			count(l, R_INVALID);
		return;
	}
	if (rec->label.present && rec->id.present) {
		/* Its label, then its prediction, which joins it at once:
		 * through the join, so that a second label or prediction
		 * for its id, before or after it, is a duplicate. */
		label(l, &rec->id, &rec->label, t);
	}
	x = event_entry(l, t);
	if (l->regression) {
		x->pred.value = rec->value.num;
	} else {
		x->cls = (uint16_t)names_lookup(&l->classes, rec->cls.str,
		    rec->cls.len, &x->pred.hash);
	}
	x->u.confidence = rec->confidence.present ? rec->confidence.num : NAN;
	if (l->segment_feature >= 0) {
		const struct record_value *s = &rec->features[l->segment_feature];

		x->segment = s->present ?
		    (uint16_t)names_id(&l->segments, s->str, s->len) : NO_SEGMENT;
	}
	if (rec->label.present && !rec->id.present) {
		union outcome truth;
		uint32_t cls;

		/* After the pairs of the predictions and labels read before
		 * it (x, not queued, stays as it is). */
		take_events(l);
		truth_of(l, rec->label.str, rec->label.len, rec->label.num,
		    &truth, &cls);
		window_add(l, x, truth, cls, 1);
		return;
	}
	if (!rec->id.present)
		return;                  /* cannot be joined: not waited for */
	queue(l, K_PREDICTION, &rec->id);
}

enum tail_line_result
labels_line(struct labels *l, const char *line, size_t len, double now)
{
	enum tail_line_result res;
	double t = now;

	if (l == NULL || l->parser == NULL)
		return TAIL_LINE_OK;
	if (!ingest_parsed(record_parse(l->parser, line, len, &l->rec), &res))
		return res;
	if (!l->rec.id.present || !l->rec.label.present) {
		count(l, R_INVALID);
		return TAIL_LINE_OK;
	}
	/* A time implausibly far from now (a millisecond epoch) would
	 * expire every waiting prediction at once: the line is invalid. */
	if (l->rec.timestamp.present) {
		if (!ingest_time_plausible(l->rec.timestamp.num)) {
			count(l, R_INVALID);
			return TAIL_LINE_OK;
		}
		t = l->rec.timestamp.num;
	} else if (l->parser_has_time) {
		count(l, R_INVALID);     /* its time is missing or bad */
		return TAIL_LINE_OK;
	}
	label(l, &l->rec.id, &l->rec.label, t);
	return TAIL_LINE_OK;
}

int
labels_joining(const struct labels *l)
{
	return l != NULL && l->joining;
}

/* -------------------------------------------------------------- figures */

/* Set series `lv` of family f to v. */
static void
put(struct labels *l, int f, const char *const *lv, double v)
{
	metrics_set(metrics_series_get(l->fam[f], lv), v);
}

/* Which of ECE_BINS equal-width bins (b/10, (b+1)/10] confidence c is in
 * (0 in the first). */
static int
ece_bin(double c)
{
	int b = (int)ceil(c * ECE_BINS) - 1;

	if (b < 0)
		b = 0;
	if (b > ECE_BINS - 1)
		b = ECE_BINS - 1;
	while (b > 0 && c <= (double)b / ECE_BINS)
		b--;
	while (b < ECE_BINS - 1 && c > (double)(b + 1) / ECE_BINS)
		b++;
	return b;
}

/* The mean confidence over the prediction window. */
static void
expected_accuracy(struct labels *l)
{
	const char *lv[2] = { l->conf->model_name, NULL };
	long k;
	size_t n, i;
	double *v, sum = 0;

	metrics_family_clear(l->fam[F_EXPECTED]);
	if (l->window == NULL || l->columns == NULL)
		return;
	k = columns_find(l->columns, COLUMNS_CONFIDENCE,
	    strlen(COLUMNS_CONFIDENCE));
	if (k < 0 || (size_t)k >= window_columns(l->window))
		return;
	buf_reset(&l->scratch);
	buf_reserve(&l->scratch, (window_records(l->window) + 1) *
	    sizeof(double));
	v = (double *)(void *)l->scratch.data;
	n = window_values(l->window, (size_t)k, v);
	if (n == 0)
		return;
	for (i = 0; i < n; i++)
		sum += v[i];
	put(l, F_EXPECTED, lv, sum / (double)n);
}

/* Per class (named ones, and __other__ last), per segment (named, then
 * __other__): counts over the window. */
struct tally {
	double n, good, abs, sq, err;
};

static void
figures(void *arg)
{
	struct labels *l = arg;
	const char *model = l->conf->model_name;
	const char *lv[3] = { model, "", NULL };
	size_t K = l->classes.n, S, i, k;
	double *tp, *np, *nt;
	struct tally all = { 0 }, *seg;
	double bn[ECE_BINS] = { 0 }, bgood[ECE_BINS] = { 0 };
	double bconf[ECE_BINS] = { 0 }, nconf = 0, ece = 0;
	int f;

	expected_accuracy(l);
	if (!l->joining)
		return;
	take_events(l);
	metrics_set(l->pending, (double)l->lists[K_PREDICTION].n);
	for (f = F_ACCURACY; f <= F_CALIBRATION; f++)
		metrics_family_clear(l->fam[f]);
	if (l->wn == 0)
		return;
	/* Ids run up to the caps (the id of __other__). */
	tp = xcalloc(3 * (l->classes.cap + 1), sizeof(*tp));
	np = tp + l->classes.cap + 1;
	nt = np + l->classes.cap + 1;
	S = l->segments.cap + 1;
	seg = xcalloc(S, sizeof(*seg));
	for (i = 0; i < l->wn; i++) {
		const struct pair *p = &l->pairs[(l->whead + i) % l->wsize];
		struct tally *t = p->segment != NO_SEGMENT ? &seg[p->segment] : NULL;
		double e = 0, good = 0;

		if (l->regression) {
			e = p->pred.value - p->truth.value;
		} else {
			good = p->pred.hash == p->truth.hash;
			np[p->pred_cls]++;
			nt[p->true_cls]++;
			if (good && p->pred_cls == p->true_cls)
				tp[p->pred_cls] += 1;
			if (isfinite(p->confidence)) {
				int b = ece_bin(p->confidence);

				bn[b]++;
				bgood[b] += good;
				bconf[b] += p->confidence;
				nconf++;
			}
		}
		all.n++;
		all.good += good;
		all.abs += fabs(e);
		all.sq += e * e;
		all.err += e;
		if (t != NULL) {
			t->n++;
			t->good += good;
			t->abs += fabs(e);
		}
	}
	if (l->regression) {
		lv[1] = "";
		put(l, F_MAE, lv, all.abs / all.n);
		lv[1] = NULL;
		put(l, F_RMSE, lv, sqrt(all.sq / all.n));
		put(l, F_ERROR_MEAN, lv, all.err / all.n);
	} else {
		lv[1] = "";
		put(l, F_ACCURACY, lv, all.good / all.n);
		/* Classes beyond max_classes have no figures of their own. */
		for (k = 0; k < K; k++) {
			if (np[k] + nt[k] == 0)
				continue;
			lv[1] = l->classes.v[k];
			put(l, F_PRECISION, lv, np[k] > 0 ? tp[k] / np[k] : 0);
			put(l, F_RECALL, lv, nt[k] > 0 ? tp[k] / nt[k] : 0);
			put(l, F_F1, lv, 2 * tp[k] / (np[k] + nt[k]));
		}
		if (nconf > 0) {
			for (k = 0; k < ECE_BINS; k++)
				if (bn[k] > 0)
					ece += bn[k] / nconf *
					    fabs(bgood[k] / bn[k] - bconf[k] / bn[k]);
			lv[1] = NULL;
			put(l, F_CALIBRATION, lv, ece);
		}
	}
	for (k = 0; k < S; k++) {
		if (seg[k].n == 0)
			continue;
		lv[1] = names_name(&l->segments, (uint32_t)k);
		if (l->regression)
			put(l, F_MAE, lv, seg[k].abs / seg[k].n);
		else
			put(l, F_ACCURACY, lv, seg[k].good / seg[k].n);
	}
	free(tp);
	free(seg);
}

/* ------------------------------------------------------------ lifecycle */

struct labels *
labels_create(const struct conf *c)
{
	struct labels *l;
	size_t i;

	if (c->labels_inputs.n == 0 && c->model_label[0] == '\0' &&
	    c->confidence_path[0] == '\0')
		return NULL;
	l = xcalloc(1, sizeof(*l));
	l->conf = c;
	l->joining = c->labels_inputs.n > 0 || c->model_label[0] != '\0';
	l->regression = c->class_path[0] == '\0';
	l->max_delay = (double)c->labels_max_delay_ms / 1000.0;
	l->max_pending = (size_t)c->labels_max_pending;
	l->segment_feature = -1;
	for (i = 0; i < c->nfeatures && c->labels_segment[0] != '\0'; i++)
		if (strcmp(c->features[i].path, c->labels_segment) == 0)
			l->segment_feature = (long)i;
	l->efree = NIL;
	l->id_key = id_key();
	l->textfree = l->bigfree = TEXT_NONE;
	l->clock[K_PREDICTION] = l->clock[K_LABEL] = -INFINITY;
	l->event_time[K_PREDICTION] = c->timestamp_path[0] != '\0';
	/* A label without a time of its own is read at the pipeline's now,
	 * which is the predictions' event time when they have one. */
	l->event_time[K_LABEL] = c->labels_timestamp[0] != '\0' ||
	    c->timestamp_path[0] != '\0';
	for (i = 0; i < K_COUNT; i++)
		l->lists[i].head = l->lists[i].tail = NIL;
	l->wsize = (size_t)c->window_size;
	if (l->joining) {
		l->pairs = xcalloc(l->wsize, sizeof(*l->pairs));
		if (c->labels_inputs.n > 0)
			l->parser = record_parser_create_labels(c);
		l->parser_has_time = c->labels_timestamp[0] != '\0';
	}
	names_init(&l->classes, (size_t)c->max_classes);
	names_init(&l->segments, (size_t)c->max_categories);
	return l;
}

void
labels_attach(struct labels *l, struct metrics_registry *reg,
    struct window *w, struct columns *cs)
{
	const char *lv[3] = { NULL, NULL, NULL };
	int i;

	if (l == NULL)
		return;
	l->reg = reg;
	l->window = w;
	l->columns = cs;
	for (i = 0; i < F_COUNT; i++)
		l->fam[i] = metrics_family_get(reg, &descs[i], NULL, 0);
	lv[0] = l->conf->model_name;
	if (l->joining) {
		l->labelled = metrics_series_get(l->fam[F_LABELLED], lv);
		l->pending = metrics_series_get(l->fam[F_PENDING], lv);
		for (i = 0; i < R_COUNT; i++) {
			lv[1] = reason_names[i];
			l->unmatched[i] = metrics_series_get(l->fam[F_UNMATCHED],
			    lv);
		}
	}
	metrics_on_collect(reg, figures, l);
}

void
labels_destroy(struct labels *l)
{
	size_t i;
	uint32_t j;

	if (l == NULL)
		return;
	if (l->reg != NULL)
		metrics_remove_collect(l->reg, figures, l);
	record_parser_destroy(l->parser);
	/* Long texts are allocated one by one. */
	for (i = 0; i < l->nqueued; i++)
		entry_release(l, &l->queue[i]);
	for (j = l->lists[K_LABEL].head; j != NIL; j = l->e[j].next)
		entry_release(l, &l->e[j]);
	free(l->big);
	free(l->blocks);
	free(l->e);
	free(l->slots);
	free(l->seen.ring);
	free(l->pairs);
	names_free(&l->classes);
	names_free(&l->segments);
	buf_free(&l->scratch);
	free(l);
}

/* ----------------------------------------------------------- checkpoint */

static void
put_names(struct state_writer *w, const struct names *n)
{
	size_t i;

	state_put_u32(w, (uint32_t)n->n);
	for (i = 0; i < n->n; i++)
		state_put_bytes(w, n->v[i], strlen(n->v[i]));
}

static void
put_outcome(struct state_writer *w, union outcome o)
{
	state_put_u64(w, o.hash);
}

/*
 * STATE_TAG_JOIN: u32 regression; the segment column's path (bytes); the
 * clocks of predictions and labels (doubles); the class names and the
 * segment names (u32 count, strings); u32 ID_HASH_VERSION and the id
 * hash's key (u64); then for the waiting predictions and the waiting
 * labels in turn, u32 count and each entry oldest first: the id's hash
 * (u64, id_hash()), time, outcome (u64), then a prediction's confidence
 * (double) or a label's class (bytes), u32 class, u32 segment; u32 pairs,
 * oldest first, each two outcomes, confidence, u32 predicted class, true
 * class and segment; then u32 joined ids remembered, oldest first, each
 * its hash (u64) and time.  Class and segment ids index the names saved
 * (0xffff: no segment).  Hash version 2 had no key (none follows it).
 *
 * Before it, STATE_TAG_LABELS, read still: the same without the hash's
 * version and key up front, each waiting entry's id its text (bytes),
 * hashed again when read; after the waiting labels u32 0 (where joined
 * ids were remembered by an earlier hash), and the hash version just
 * before the ids remembered, which it leaves out when it has none (the
 * ids it remembers, by a hash without a key, are not kept).
 */
void
labels_save(struct labels *l, struct state_writer *w)
{
	uint32_t i;
	size_t n;
	int k;

	if (l == NULL || !l->joining)
		return;
	take_events(l);
	state_begin_section(w, STATE_TAG_JOIN);
	state_put_u32(w, (uint32_t)l->regression);
	state_put_bytes(w, l->conf->labels_segment,
	    strlen(l->conf->labels_segment));
	for (k = 0; k < K_COUNT; k++)
		state_put_double(w, l->clock[k]);
	put_names(w, &l->classes);
	put_names(w, &l->segments);
	state_put_u32(w, ID_HASH_VERSION);
	state_put_u64(w, l->id_key);
	for (k = 0; k < K_COUNT; k++) {
		state_put_u32(w, (uint32_t)l->lists[k].n);
		for (i = l->lists[k].head; i != NIL; i = l->e[i].next) {
			const struct entry *x = &l->e[i];

			state_put_u64(w, x->hash);
			state_put_double(w, x->time);
			put_outcome(w, x->pred);
			if (k == K_PREDICTION)
				state_put_double(w, x->u.confidence);
			else if (x->u.text.ref != TEXT_NONE)
				state_put_bytes(w, text_ptr(l, x->u.text.ref),
				    x->u.text.len);
			else
				state_put_bytes(w, "", 0);
			state_put_u32(w, x->cls);
			state_put_u32(w, x->segment);
		}
	}
	state_put_u32(w, (uint32_t)l->wn);
	for (n = 0; n < l->wn; n++) {
		const struct pair *p = &l->pairs[(l->whead + n) % l->wsize];

		put_outcome(w, p->pred);
		put_outcome(w, p->truth);
		state_put_double(w, p->confidence);
		state_put_u32(w, p->pred_cls);
		state_put_u32(w, p->true_cls);
		state_put_u32(w, p->segment);
	}
	state_put_u32(w, (uint32_t)l->seen.n);
	for (n = 0; n < l->seen.n; n++) {
		const struct seen *z =
		    seen_at(&l->seen, ring_at(l->seen.head, n));

		state_put_u64(w, z->hash);
		state_put_double(w, z->time);
	}
	state_end_section(w);
}

size_t
labels_checkpoint_bytes(const struct labels *l)
{
	if (l == NULL || !l->joining)
		return 0;
	return l->lists[K_PREDICTION].n * 40 +
	    (l->lists[K_LABEL].n + l->nqueued) * (44 + TEXT_BLOCK) +
	    l->seen.n * 16 + l->wn * 40 + 4096;
}

/* The saved names, for mapping the saved ids onto this run's. */
struct saved_names {
	uint32_t *map;          /* saved id -> id now */
	uint32_t n;
};

static void
get_names(struct state_reader *r, struct names *n, struct saved_names *s)
{
	uint32_t k, count = state_get_u32(r);

	s->map = NULL;
	s->n = 0;
	for (k = 0; k < count && !r->bad; k++) {
		size_t len;
		const char *name = state_get_string(r, &len);

		if (name == NULL)
			break;
		s->map = xreallocarray(s->map, s->n + 1, sizeof(*s->map));
		s->map[s->n++] = names_id(n, name, len);
	}
}

/* A saved class id as this run's: a name saved maps to its id now;
 * any other was __other__ then and is now. */
static uint32_t
remap(const struct saved_names *s, const struct names *n, uint32_t id)
{
	return id < s->n ? s->map[id] : (uint32_t)n->cap;
}

/* The same for a segment, which may be none; none when the segment
 * column saved is another. */
static uint32_t
remap_segment(const struct saved_names *s, const struct names *n,
    uint32_t id, int same_column)
{
	if (id == NO_SEGMENT || !same_column)
		return NO_SEGMENT;
	return remap(s, n, id);
}

static union outcome
get_outcome(struct state_reader *r)
{
	union outcome o;

	o.hash = state_get_u64(r);
	return o;
}

/* Is t a time (or, for a clock, -inf: none read yet)?  A checkpoint's
 * values are checked as a log's are: its CRC tells a damaged file, not
 * one another program wrote, and a clock at +inf would expire all that
 * comes. */
static int
saved_time(double t, int clock)
{
	return isfinite(t) || (clock && t == -INFINITY);
}

/* Are the outcomes and confidence (NaN: none) of a saved prediction or
 * pair values a record could have had? */
static int
saved_values(const struct labels *l, union outcome pred,
    union outcome truth, double confidence)
{
	if (l->regression && !(isfinite(pred.value) && isfinite(truth.value)))
		return 0;
	return isnan(confidence) || (confidence >= 0 && confidence <= 1);
}

/* The join as it starts, but for its names and key: nothing waiting or
 * remembered, no pair, no time read.  What a checkpoint read in part had
 * restored is not kept. */
static void
join_clear(struct labels *l)
{
	int k;

	for (k = 0; k < K_COUNT; k++) {
		while (l->lists[k].head != NIL)
			entry_free(l, &l->lists[k], l->lists[k].head);
		l->clock[k] = -INFINITY;
	}
	l->seen.n = 0;
	free(l->slots);
	l->slots = NULL;
	l->mask = l->used = 0;
	l->wn = l->whead = 0;
}

/* A checkpoint's joined ids remembered, remembered again if `keep` (their
 * hash is this build's). */
static void
get_remembered(struct labels *l, struct state_reader *r, int keep)
{
	uint32_t n = state_get_u32(r), j;

	for (j = 0; j < n && !r->bad; j++) {
		uint64_t h = state_get_u64(r);
		double t = state_get_double(r);

		if (!r->bad && saved_time(t, 0) && keep)
			remember(l, h, t, SIZE_MAX);
	}
}

int
labels_restore(struct labels *l, const struct buf *file)
{
	struct state_reader r;
	struct saved_names cls, segs;
	uint32_t n, j;
	int same_kind, same_segment, same_hash, texts = 0, k;
	const char *seg;
	size_t seglen;

	if (l == NULL || !l->joining)
		return 0;
	if (state_section(file, STATE_TAG_JOIN, &r) != 0) {
		/* an earlier build's: ids by their text */
		if (state_section(file, STATE_TAG_LABELS, &r) != 0)
			return 0;
		texts = 1;
	}
	take_events(l);
	same_kind = (int)state_get_u32(&r) == l->regression;
	seg = state_get_string(&r, &seglen);
	same_segment = seg != NULL &&
	    seglen == strlen(l->conf->labels_segment) &&
	    memcmp(seg, l->conf->labels_segment, seglen) == 0;
	for (k = 0; k < K_COUNT; k++) {
		double c = state_get_double(&r);

		if (saved_time(c, 1))
			l->clock[k] = c;
	}
	get_names(&r, &l->classes, &cls);
	get_names(&r, &l->segments, &segs);
	/* Ids are known by their hash: saved by another hash or key, they
	 * are no longer known (their entries wait no more, and another label
	 * or prediction for an id remembered is not known as a duplicate).
	 * The join takes the checkpoint's key unless it holds ids of its
	 * own already (a restore is at the start). */
	if (texts) {
		same_hash = 1;
	} else {
		uint32_t version = state_get_u32(&r);
		/* (Version 2 came before the key, which it has not.) */
		uint64_t key = version == 2 ? 0 : state_get_u64(&r);

		same_hash = !r.bad && version == ID_HASH_VERSION &&
		    (key == l->id_key || (l->lists[K_PREDICTION].n == 0 &&
		    l->lists[K_LABEL].n == 0 && l->seen.n == 0));
		if (same_hash)
			l->id_key = key;
	}
	for (k = 0; k < K_COUNT; k++) {
		n = state_get_u32(&r);
		for (j = 0; j < n && !r.bad; j++) {
			struct entry x;
			const char *text = NULL, *id = NULL;
			size_t textlen = 0, idlen = 0, slot;
			int joined;

			memset(&x, 0, sizeof(x));
			if (texts) {
				id = state_get_string(&r, &idlen);
				if (id != NULL)
					x.hash = id_hash(l->id_key, id,
					    idlen);
			} else {
				x.hash = state_get_u64(&r);
			}
			x.time = state_get_double(&r);
			x.pred = get_outcome(&r);
			if (k == K_PREDICTION)
				x.u.confidence = state_get_double(&r);
			else
				text = state_get_string(&r, &textlen);
			x.cls = (uint16_t)remap(&cls, &l->classes,
			    state_get_u32(&r));
			x.segment = (uint16_t)remap_segment(&segs, &l->segments,
			    state_get_u32(&r), same_segment);
			if (r.bad || !same_hash || !same_kind ||
			    (texts && (id == NULL || idlen == 0 ||
			    idlen > RECORD_MAX_LABEL_BYTES)) ||
			    !saved_time(x.time, 0) ||
			    !saved_values(l, x.pred, x.pred, k == K_PREDICTION ?
			    x.u.confidence : NAN) ||
			    textlen > RECORD_MAX_LABEL_BYTES ||
			    (k == K_LABEL && !l->regression && textlen == 0))
				continue;
			x.kind = (uint16_t)k;
			if (k == K_LABEL) {
				/* (A union with the confidence.) */
				x.u.text.ref = l->regression ? TEXT_NONE :
				    text_alloc(l, text, textlen);
				x.u.text.len = (uint32_t)textlen;
			}
			if (table_find(l, x.hash, x.time, &slot, &joined) ==
			    NIL)
				wait(l, &x, k, slot);
			else
				entry_release(l, &x);
		}
	}
	/* Ids remembered by strmap_hash(), where the earliest checkpoints
	 * kept them, by no hash of a key: passed over. */
	if (texts)
		get_remembered(l, &r, 0);
	n = state_get_u32(&r);
	for (j = 0; j < n && !r.bad; j++) {
		struct entry x;
		union outcome truth;
		uint32_t true_cls;

		memset(&x, 0, sizeof(x));
		x.pred = get_outcome(&r);
		truth = get_outcome(&r);
		x.u.confidence = state_get_double(&r);
		x.cls = (uint16_t)remap(&cls, &l->classes, state_get_u32(&r));
		true_cls = remap(&cls, &l->classes, state_get_u32(&r));
		x.segment = (uint16_t)remap_segment(&segs, &l->segments,
		    state_get_u32(&r), same_segment);
		if (!r.bad && same_kind &&
		    saved_values(l, x.pred, truth, x.u.confidence))
			window_add(l, &x, truth, true_cls, 0);
	}
	/* (STATE_TAG_LABELS's last ones, by a hash without a key, are
	 * not read.) */
	if (!texts)
		get_remembered(l, &r, same_hash);
	free(cls.map);
	free(segs.map);
	if (r.bad) {
		join_clear(l);
		return -EBADMSG;
	}
	return 0;
}
