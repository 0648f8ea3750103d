/*
 * json.c - a validating JSON scanner that extracts a few values by path.
 *
 * The query is a trie of the requested paths.  Scanning walks the text
 * once, recursively; at each object member it looks the key up among the
 * trie node's children (a small open-addressing table keyed by a cheap
 * hash of the key's bytes), and descends with the child or, when there is
 * none, with no node at all, which only validates.
 *
 * Strings are scanned 16 bytes at a time with SSE2 where available: one
 * comparison finds the closing quote, a backslash or a control character;
 * digits are checked eight at a time.  Values are converted on request, in
 * json_value.c.
 */
#include "config.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "json.h"
#include "json_chars.h"
#include "strmap.h"
#include "util.h"

struct qkey {
	char *key;
	size_t len;
	uint64_t hash;
	int node;
};

struct qidx {
	uint32_t index;
	int node;
};

struct qnode {
	int slot;               /* -1 when nothing is captured here */
	struct qkey *keys;
	size_t nkeys;
	int *table;             /* indices into keys, -1 for empty */
	size_t tmask;           /* table size - 1 */
	struct qidx *idx;
	size_t nidx;
	int *sub;               /* every slot at or below this node */
	size_t nsub;
	int members;            /* list the members of an object here */
};

/*
 * Log lines of one service repeat the same keys in the same order.  For
 * the k-th member of an object at a node, remember which key was there
 * last time and what it led to; a repeat costs two word comparisons
 * instead of a hash and a lookup.
 */
#define SEQ_MAX 32

struct seq_entry {
	uint32_t len;               /* 0: unused (empty keys are not cached) */
	int child;                  /* node index, or -1 for no match */
	uint64_t head, tail;        /* first and last 8 bytes */
	char *full;                 /* the whole key when longer than 16 */
};

struct json_query {
	struct qnode *nodes;
	size_t nnodes;
	size_t nslots;
	struct seq_entry *seq;      /* SEQ_MAX per node, made on first scan */
	/* Scratch for a scan: not thread-safe, like the rest of driftd. */
	uint32_t *visited;      /* generation in which each node was entered */
	uint32_t gen;
	struct buf keybuf;      /* decoded escaped keys */
	/* The members of the object at the members node, from the last
	 * scan (see json_query_list_members()). */
	struct json_member *members;
	size_t nmembers, cmembers;
	int members_truncated;
};

struct scanner {
	const char *p;
	const char *end;
	struct json_query *q;
	struct json_value *slots;
	int depth;
};

static int scan_value(struct scanner *s, const struct qnode *node);

/* ------------------------------------------------------------ the query */

struct json_query *
json_query_create(void)
{
	struct json_query *q = xcalloc(1, sizeof(*q));

	q->nodes = xcalloc(1, sizeof(*q->nodes));
	q->nodes[0].slot = -1;
	q->nnodes = 1;
	return q;
}

void
json_query_destroy(struct json_query *q)
{
	size_t i, j;

	if (q == NULL)
		return;
	for (i = 0; i < q->nnodes; i++) {
		struct qnode *n = &q->nodes[i];

		for (j = 0; j < n->nkeys; j++)
			free(n->keys[j].key);
		free(n->keys);
		free(n->table);
		free(n->idx);
		free(n->sub);
	}
	if (q->seq != NULL)
		for (i = 0; i < q->nnodes * SEQ_MAX; i++)
			free(q->seq[i].full);
	free(q->seq);
	free(q->members);
	free(q->nodes);
	free(q->visited);
	buf_free(&q->keybuf);
	free(q);
}

static int
node_new(struct json_query *q)
{
	q->nodes = xreallocarray(q->nodes, q->nnodes + 1, sizeof(*q->nodes));
	memset(&q->nodes[q->nnodes], 0, sizeof(q->nodes[0]));
	q->nodes[q->nnodes].slot = -1;
	return (int)q->nnodes++;
}

static void
node_rehash(struct qnode *n)
{
	size_t size = 4, i;

	while (size < n->nkeys * 2)
		size *= 2;
	free(n->table);
	n->table = xreallocarray(NULL, size, sizeof(int));
	for (i = 0; i < size; i++)
		n->table[i] = -1;
	n->tmask = size - 1;
	for (i = 0; i < n->nkeys; i++) {
		size_t b = n->keys[i].hash & n->tmask;

		while (n->table[b] != -1)
			b = (b + 1) & n->tmask;
		n->table[b] = (int)i;
	}
}

static const struct qnode *
node_key_child(const struct json_query *q, const struct qnode *n,
    const char *key, size_t len)
{
	size_t b;
	uint64_t h;

	if (n->nkeys == 0)
		return NULL;
	h = strmap_hash(key, len);
	for (b = h & n->tmask; n->table[b] != -1; b = (b + 1) & n->tmask) {
		const struct qkey *k = &n->keys[n->table[b]];

		if (k->hash == h && k->len == len && memcmp(k->key, key, len) == 0)
			return &q->nodes[k->node];
	}
	return NULL;
}

int
json_query_add(struct json_query *q, const struct path *p)
{
	int path_nodes[PATH_MAX_SEGMENTS + 1];
	int cur = 0;
	size_t i, j;
	int slot;

	/* Nodes are about to change: forget the key-order cache. */
	if (q->seq != NULL) {
		for (i = 0; i < q->nnodes * SEQ_MAX; i++)
			free(q->seq[i].full);
		free(q->seq);
		q->seq = NULL;
	}
	path_nodes[0] = 0;
	for (i = 0; i < p->nsegs; i++) {
		const struct path_seg *seg = &p->segs[i];
		struct qnode *n = &q->nodes[cur];
		int next = -1;

		if (seg->is_index) {
			for (j = 0; j < n->nidx; j++)
				if (n->idx[j].index == seg->index)
					next = n->idx[j].node;
			if (next < 0) {
				next = node_new(q);
				n = &q->nodes[cur];
				n->idx = xreallocarray(n->idx, n->nidx + 1, sizeof(*n->idx));
				n->idx[n->nidx].index = seg->index;
				n->idx[n->nidx].node = next;
				n->nidx++;
			}
		} else {
			const struct qnode *c = node_key_child(q, n, seg->key,
			    seg->keylen);

			if (c != NULL) {
				next = (int)(c - q->nodes);
			} else {
				next = node_new(q);
				n = &q->nodes[cur];
				n->keys = xreallocarray(n->keys, n->nkeys + 1,
				    sizeof(*n->keys));
				n->keys[n->nkeys].key = xstrndup(seg->key, seg->keylen);
				n->keys[n->nkeys].len = seg->keylen;
				n->keys[n->nkeys].hash = strmap_hash(seg->key, seg->keylen);
				n->keys[n->nkeys].node = next;
				n->nkeys++;
				node_rehash(n);
			}
		}
		cur = next;
		path_nodes[i + 1] = cur;
	}
	if (q->nodes[cur].slot >= 0)
		return q->nodes[cur].slot;
	slot = (int)q->nslots++;
	q->nodes[cur].slot = slot;
	/* Every node on the way (but the root) gains the slot in its subtree. */
	for (i = 1; i <= p->nsegs; i++) {
		struct qnode *n = &q->nodes[path_nodes[i]];

		n->sub = xreallocarray(n->sub, n->nsub + 1, sizeof(int));
		n->sub[n->nsub++] = slot;
	}
	q->visited = xreallocarray(q->visited, q->nnodes, sizeof(uint32_t));
	memset(q->visited, 0, q->nnodes * sizeof(uint32_t));
	q->gen = 0;
	return slot;
}

size_t
json_query_slots(const struct json_query *q)
{
	return q->nslots;
}

int
json_query_list_members(struct json_query *q, int slot)
{
	size_t i;

	for (i = 0; i < q->nnodes; i++)
		if (q->nodes[i].slot == slot) {
			q->nodes[i].members = 1;
			return 0;
		}
	return -ENOENT;
}

const struct json_member *
json_query_members(const struct json_query *q, size_t *n, int *truncated)
{
	*n = q->nmembers;
	if (truncated != NULL)
		*truncated = q->members_truncated;
	return q->members;
}

/* ---------------------------------------------------------- the scanner */

static inline int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline void
skip_ws(struct scanner *s)
{
	/* Everything but whitespace is above ' '; compact JSON has none. */
	if (s->p < s->end && (unsigned char)*s->p > ' ')
		return;
	while (s->p < s->end && is_ws(*s->p))
		s->p++;
}

/*
 * `p` is just after an opening quote.  Return the closing quote, or NULL
 * for an unterminated string, a raw control character or a bad escape.
 */
#define ALWAYS_INLINE inline __attribute__((always_inline))

static ALWAYS_INLINE const char *
scan_string(const char *p, const char *end, int *escaped)
{
	for (;;) {
#ifdef __SSE2__
		const __m128i quote = _mm_set1_epi8('"');
		const __m128i bslash = _mm_set1_epi8('\\');
		const __m128i ctl = _mm_set1_epi8(0x1f);

		while (end - p >= 16) {
			__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
			__m128i m = _mm_or_si128(
			    _mm_or_si128(_mm_cmpeq_epi8(x, quote),
			    _mm_cmpeq_epi8(x, bslash)),
			    _mm_cmpeq_epi8(_mm_max_epu8(x, ctl), ctl));
			int mask = _mm_movemask_epi8(m);

			if (mask != 0) {
				p += __builtin_ctz((unsigned)mask);
				goto special;
			}
			p += 16;
		}
#endif
		while (p < end && *p != '"' && *p != '\\' &&
		    (unsigned char)*p >= 0x20)
			p++;
		if (p >= end)
			return NULL;
#ifdef __SSE2__
special:
#endif
		if (*p == '"')
			return p;
		if (*p != '\\')
			return NULL;             /* control character */
		*escaped = 1;
		if (end - p < 2)
			return NULL;
		switch (p[1]) {
		case '"': case '\\': case '/': case 'b': case 'f':
		case 'n': case 'r': case 't':
			p += 2;
			break;
		case 'u':
			if (end - p < 6 || hex_value(p[2]) < 0 ||
			    hex_value(p[3]) < 0 || hex_value(p[4]) < 0 ||
			    hex_value(p[5]) < 0)
				return NULL;
			p += 6;
			break;
		default:
			return NULL;
		}
	}
}

/* Skip a run of digits. */
static inline const char *
skip_digits(const char *p, const char *end)
{
#if SWAR_DIGITS
	while (end - p >= 8) {
		unsigned n = digit_run8(load8(p));

		p += n;
		if (n < 8)
			return p;
	}
#endif
	while (p < end && is_digit(*p))
		p++;
	return p;
}

static ALWAYS_INLINE const char *
scan_number(const char *p, const char *end)
{
	if (p < end && *p == '-')
		p++;
	if (p >= end)
		return NULL;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		p = skip_digits(p + 1, end);
	else
		return NULL;
	if (p < end && *p == '.') {
		p++;
		if (p >= end || !is_digit(*p))
			return NULL;
		p = skip_digits(p + 1, end);
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || !is_digit(*p))
			return NULL;
		p = skip_digits(p + 1, end);
	}
	return p;
}

static inline const char *
ws(const char *p, const char *end)
{
	if (p < end && (unsigned char)*p > ' ')
		return p;
	while (p < end && is_ws(*p))
		p++;
	return p;
}

static inline const char *
literal(const char *p, const char *end, const char *lit, size_t len)
{
	if ((size_t)(end - p) < len || memcmp(p, lit, len) != 0)
		return NULL;
	return p + len;
}

static const char *skip_value(const char *p, const char *end, int depth);

/*
 * Validate an object or array without capturing anything in it: the path
 * most of a line takes.  `p` is at the opening bracket.  Returns the byte
 * after the closing bracket, or NULL.
 */
static const char *
skip_container(const char *p, const char *end, int depth)
{
	int object = *p == '{';
	char close = object ? '}' : ']';

	if (++depth > JSON_MAX_DEPTH)
		return NULL;
	p = ws(p + 1, end);
	if (p < end && *p == close)
		return p + 1;
	for (;;) {
		if (object) {
			int escaped;

			if (p >= end || *p != '"')
				return NULL;
			if ((p = scan_string(p + 1, end, &escaped)) == NULL)
				return NULL;
			p = ws(p + 1, end);
			if (p >= end || *p != ':')
				return NULL;
			p++;
		}
		if ((p = skip_value(p, end, depth)) == NULL)
			return NULL;
		p = ws(p, end);
		if (p >= end)
			return NULL;
		if (*p == ',') {
			p = ws(p + 1, end);
			continue;
		}
		return *p == close ? p + 1 : NULL;
	}
}

static const char *
skip_value(const char *p, const char *end, int depth)
{
	int escaped;

	p = ws(p, end);
	if (p >= end)
		return NULL;
	switch (*p) {
	case '"':
		p = scan_string(p + 1, end, &escaped);
		return p != NULL ? p + 1 : NULL;
	case '{':
	case '[':
		return skip_container(p, end, depth);
	case 't':
		return literal(p, end, "true", 4);
	case 'f':
		return literal(p, end, "false", 5);
	case 'n':
		return literal(p, end, "null", 4);
	case 'N':
		return literal(p, end, "NaN", 3);
	case 'I':
		return literal(p, end, "Infinity", 8);
	case '-':
		if (end - p > 1 && p[1] == 'I')
			return literal(p, end, "-Infinity", 9);
		/* FALLTHROUGH */
	default:
		return scan_number(p, end);
	}
}

static int
match_literal(struct scanner *s, const char *lit, size_t len)
{
	if ((size_t)(s->end - s->p) < len || memcmp(s->p, lit, len) != 0)
		return -1;
	s->p += len;
	return 0;
}

/* The first and last eight bytes of a key, zero-padded when shorter. */
static inline void
key_words(const char *key, size_t len, const char *end, uint64_t *head,
    uint64_t *tail)
{
	if (len >= 8) {
		memcpy(head, key, 8);
		memcpy(tail, key + len - 8, 8);
		return;
	}
	*tail = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (end - key >= 8) {
		/* Whatever follows the key is in the buffer: load a word and
		 * keep the key's bytes, which are its low bytes. */
		memcpy(head, key, 8);
		*head &= len == 0 ? 0 : ~0ULL >> (64 - 8 * len);
		return;
	}
#else
	(void)end;
#endif
	*head = 0;
	for (size_t i = 0; i < len; i++)
		*head |= (uint64_t)(unsigned char)key[i] << (8 * i);
}

/* The cache entry of the k-th member at `node`, and the child it names. */
static inline struct seq_entry *
seq_at(const struct json_query *q, const struct qnode *node, size_t k)
{
	return &q->seq[(size_t)(node - q->nodes) * SEQ_MAX + k];
}

static inline const struct qnode *
seq_child(const struct json_query *q, const struct seq_entry *e)
{
	return e->child < 0 ? NULL : &q->nodes[e->child];
}

static ALWAYS_INLINE const struct qnode *
lookup_seq(struct scanner *s, const struct qnode *node, size_t k,
    const char *key, size_t len)
{
	struct json_query *q = s->q;
	const struct qnode *child;
	struct seq_entry *e;
	uint64_t head, tail;

	if (k >= SEQ_MAX || len == 0)
		return node_key_child(q, node, key, len);
	if (q->seq == NULL)
		q->seq = xcalloc(q->nnodes * SEQ_MAX, sizeof(*q->seq));
	key_words(key, len, s->end, &head, &tail);
	e = seq_at(q, node, k);
	if (e->len == len && e->head == head && e->tail == tail &&
	    (len <= 16 || memcmp(e->full, key, len) == 0))
		return seq_child(q, e);
	child = node_key_child(q, node, key, len);
	free(e->full);
	e->full = len > 16 ? xstrndup(key, len) : NULL;
	e->len = (uint32_t)len;
	e->head = head;
	e->tail = tail;
	e->child = child != NULL ? (int)(child - q->nodes) : -1;
	return child;
}

/*
 * The key-order cache also says how long the k-th key was last time.
 * When the same short key is there again (its closing quote at the same
 * distance, its bytes equal to the cached ones, which had no quote,
 * backslash or control character), it is taken without scanning for
 * its end: the next token's position then follows from the cached
 * length instead of from a search through the key, and the check runs
 * beside it.  Returns the closing quote, or NULL to scan as usual.
 */
static ALWAYS_INLINE const char *
predict_key(struct scanner *s, const struct qnode *node, size_t k,
    const char *key, const struct qnode **child)
{
	const struct json_query *q = s->q;
	const struct seq_entry *e;
	uint64_t head, tail;
	size_t len;

	if (q->seq == NULL || k >= SEQ_MAX)
		return NULL;
	e = seq_at(q, node, k);
	len = e->len;
	if (len == 0 || len > 16 || (size_t)(s->end - key) <= len ||
	    key[len] != '"')
		return NULL;
	key_words(key, len, s->end, &head, &tail);
	if (head != e->head || tail != e->tail)
		return NULL;
	*child = seq_child(q, e);
	return key + len;
}

/* A key's node, decoding the key first when it holds escapes. */
static ALWAYS_INLINE const struct qnode *
lookup_key(struct scanner *s, const struct qnode *node, size_t k,
    const char *key, size_t len, int escaped)
{
	struct json_value v;

	if (node == NULL || node->nkeys == 0)
		return NULL;
	if (!escaped)
		return lookup_seq(s, node, k, key, len);
	v.type = JSON_STRING;
	v.ptr = key;
	v.len = len;
	v.escaped = 1;
	buf_reset(&s->q->keybuf);
	if (json_string_decode(&v, &s->q->keybuf) != 0)
		return NULL;
	return node_key_child(s->q, node, s->q->keybuf.data ?
	    s->q->keybuf.data : "", s->q->keybuf.len);
}

/* Entering `child` again (a repeated key): forget what it captured before,
 * so that the last occurrence wins for everything below it. */
static void
enter_node(struct scanner *s, const struct qnode *child)
{
	size_t id = (size_t)(child - s->q->nodes), i;

	if (s->q->visited[id] == s->q->gen) {
		for (i = 0; i < child->nsub; i++)
			s->slots[child->sub[i]].type = JSON_ABSENT;
	}
	s->q->visited[id] = s->q->gen;
}

/* What a value found between start and end is, as json_scan() tells it. */
static void
classify(const char *start, const char *end, struct json_value *v)
{
	v->ptr = start;
	v->len = (size_t)(end - start);
	v->escaped = 0;
	switch (*start) {
	case '"':
		v->type = JSON_STRING;
		v->ptr = start + 1;
		v->len -= 2;
		v->escaped = memchr(v->ptr, '\\', v->len) != NULL;
		break;
	case '{': v->type = JSON_OBJECT; break;
	case '[': v->type = JSON_ARRAY; break;
	case 't': v->type = JSON_TRUE; break;
	case 'f': v->type = JSON_FALSE; break;
	case 'n': v->type = JSON_NULL; break;
	case 'N': case 'I': v->type = JSON_NONFINITE; break;
	default:
		v->type = v->len > 1 && start[1] == 'I' ? JSON_NONFINITE :
		    JSON_NUMBER;
		break;
	}
}

/* List a member of the members node's object. */
static void
add_member(struct json_query *q, const char *key, size_t klen, int escaped,
    const char *start, const char *end)
{
	struct json_member *m;

	if (q->nmembers >= JSON_MAX_MEMBERS) {
		q->members_truncated = 1;
		return;
	}
	if (q->nmembers == q->cmembers) {
		q->cmembers = q->cmembers ? 2 * q->cmembers : 64;
		q->members = xreallocarray(q->members, q->cmembers,
		    sizeof(*q->members));
	}
	m = &q->members[q->nmembers++];
	m->key.type = JSON_STRING;
	m->key.ptr = key;
	m->key.len = klen;
	m->key.escaped = escaped;
	classify(start, end, &m->value);
}

static int
scan_object(struct scanner *s, const struct qnode *node)
{
	int list = node != NULL && node->members;

	if (list) {
		/* The last occurrence of a repeated key wins. */
		s->q->nmembers = 0;
		s->q->members_truncated = 0;
	}
	s->p++;                          /* '{' */
	if (++s->depth > JSON_MAX_DEPTH)
		return -1;
	skip_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		s->depth--;
		return 0;
	}
	for (size_t k = 0;; k++) {
		const struct qnode *child;
		const char *key, *close;
		int escaped = 0;

		if (s->p >= s->end || *s->p != '"')
			return -1;
		key = s->p + 1;
		close = NULL;
		if (node != NULL && node->nkeys > 0)
			close = predict_key(s, node, k, key, &child);
		if (close == NULL) {
			close = scan_string(key, s->end, &escaped);
			if (close == NULL)
				return -1;
			child = lookup_key(s, node, k, key,
			    (size_t)(close - key), escaped);
		} else if (list) {
			escaped = memchr(key, '\\', (size_t)(close - key)) != NULL;
		}
		s->p = close + 1;
		skip_ws(s);
		if (s->p >= s->end || *s->p != ':')
			return -1;
		s->p++;
		/* Only a parent needs resetting on a repeated key; a leaf's
		 * slot is simply overwritten. */
		if (child != NULL && (child->nkeys > 0 || child->nidx > 0))
			enter_node(s, child);
		if (list) {
			const char *start;

			skip_ws(s);
			start = s->p;
			if (s->p >= s->end || scan_value(s, child) != 0)
				return -1;
			add_member(s->q, key, (size_t)(close - key), escaped,
			    start, s->p);
		} else if (scan_value(s, child) != 0) {
			return -1;
		}
		skip_ws(s);
		if (s->p >= s->end)
			return -1;
		if (*s->p == ',') {
			s->p++;
			skip_ws(s);
			continue;
		}
		if (*s->p != '}')
			return -1;
		s->p++;
		s->depth--;
		return 0;
	}
}

static int
scan_array(struct scanner *s, const struct qnode *node)
{
	uint32_t i = 0;

	s->p++;                          /* '[' */
	if (++s->depth > JSON_MAX_DEPTH)
		return -1;
	skip_ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		s->depth--;
		return 0;
	}
	for (;; i++) {
		const struct qnode *child = NULL;
		size_t j;

		if (node != NULL)
			for (j = 0; j < node->nidx; j++)
				if (node->idx[j].index == i)
					child = &s->q->nodes[node->idx[j].node];
		if (scan_value(s, child) != 0)
			return -1;
		skip_ws(s);
		if (s->p >= s->end)
			return -1;
		if (*s->p == ',') {
			s->p++;
			continue;
		}
		if (*s->p != ']')
			return -1;
		s->p++;
		s->depth--;
		return 0;
	}
}

static int
scan_value(struct scanner *s, const struct qnode *node)
{
	const char *start;
	enum json_type type;
	int escaped = 0;
	const char *e;

	if (node == NULL) {
		/* Nothing wanted in here: only validate. */
		s->p = skip_value(s->p, s->end, s->depth);
		return s->p != NULL ? 0 : -1;
	}
	skip_ws(s);
	if (s->p >= s->end)
		return -1;
	start = s->p;
	switch (*s->p) {
	case '{':
		if (node->nkeys == 0 && node->nidx == 0 && !node->members)
			s->p = skip_container(s->p, s->end, s->depth);
		else if (scan_object(s, node) != 0)
			return -1;
		if (s->p == NULL)
			return -1;
		type = JSON_OBJECT;
		break;
	case '[':
		if (node->nkeys == 0 && node->nidx == 0)
			s->p = skip_container(s->p, s->end, s->depth);
		else if (scan_array(s, node) != 0)
			return -1;
		if (s->p == NULL)
			return -1;
		type = JSON_ARRAY;
		break;
	case '"':
		e = scan_string(s->p + 1, s->end, &escaped);
		if (e == NULL)
			return -1;
		s->p = e + 1;
		if (node->slot >= 0) {
			struct json_value *v = &s->slots[node->slot];

			v->type = JSON_STRING;
			v->ptr = start + 1;
			v->len = (size_t)(e - start - 1);
			v->escaped = escaped;
		}
		return 0;
	case 't':
		if (match_literal(s, "true", 4) != 0)
			return -1;
		type = JSON_TRUE;
		break;
	case 'f':
		if (match_literal(s, "false", 5) != 0)
			return -1;
		type = JSON_FALSE;
		break;
	case 'n':
		if (match_literal(s, "null", 4) != 0)
			return -1;
		type = JSON_NULL;
		break;
	case 'N':
		if (match_literal(s, "NaN", 3) != 0)
			return -1;
		type = JSON_NONFINITE;
		break;
	case 'I':
		if (match_literal(s, "Infinity", 8) != 0)
			return -1;
		type = JSON_NONFINITE;
		break;
	default:
		if (*s->p == '-' && s->end - s->p > 1 && s->p[1] == 'I') {
			if (match_literal(s, "-Infinity", 9) != 0)
				return -1;
			type = JSON_NONFINITE;
			break;
		}
		e = scan_number(s->p, s->end);
		if (e == NULL)
			return -1;
		s->p = e;
		type = JSON_NUMBER;
		break;
	}
	if (node->slot >= 0) {
		struct json_value *v = &s->slots[node->slot];

		v->type = type;
		v->ptr = start;
		v->len = (size_t)(s->p - start);
		v->escaped = 0;
	}
	return 0;
}

int
json_scan(const struct json_query *cq, const char *text, size_t len,
    struct json_value *slots)
{
	struct json_query *q = (struct json_query *)(uintptr_t)cq;
	struct scanner s;

	memset(slots, 0, q->nslots * sizeof(*slots));
	q->nmembers = 0;
	q->members_truncated = 0;
	if (++q->gen == 0) {
		/* Wrapped: reset, so no stale generation matches. */
		memset(q->visited, 0, q->nnodes * sizeof(uint32_t));
		q->gen = 1;
	}
	s.p = text;
	s.end = text + len;
	s.q = q;
	s.slots = slots;
	s.depth = 0;
	skip_ws(&s);
	if (s.p >= s.end || *s.p != '{')
		return -EINVAL;
	if (scan_object(&s, &q->nodes[0]) != 0)
		return -EINVAL;
	skip_ws(&s);
	return s.p == s.end ? 0 : -EINVAL;
}

int
json_validate(const char *text, size_t len)
{
	struct json_query q;
	struct scanner s;

	memset(&q, 0, sizeof(q));
	s.p = text;
	s.end = text + len;
	s.q = &q;
	s.slots = NULL;
	s.depth = 0;
	if (scan_value(&s, NULL) != 0)
		return -EINVAL;
	skip_ws(&s);
	return s.p == s.end ? 0 : -EINVAL;
}

/* ------------------------------------------------------------ iteration */

void
json_iter_init(struct json_iter *it, const struct json_value *container)
{
	it->first = 1;
	if (container->type != JSON_OBJECT && container->type != JSON_ARRAY) {
		it->p = it->end = NULL;
		return;
	}
	it->p = container->ptr + 1;
	it->end = container->ptr + container->len - 1;   /* the closing bracket */
}

int
json_iter_next(struct json_iter *it, struct json_value *key,
    struct json_value *value)
{
	static struct json_query empty;
	struct qnode capture;
	struct json_value slot;
	struct scanner s;
	int is_object;

	if (it->p == NULL)
		return 0;
	is_object = it->end[0] == '}';
	s.p = it->p;
	s.end = it->end;
	s.q = &empty;
	s.depth = 0;
	skip_ws(&s);
	if (!it->first) {
		if (s.p >= s.end || *s.p != ',')
			return 0;
		s.p++;
		skip_ws(&s);
	}
	if (s.p >= s.end)
		return 0;
	it->first = 0;
	memset(key, 0, sizeof(*key));
	if (is_object) {
		const char *close;
		int escaped = 0;

		if (*s.p != '"')
			return 0;
		close = scan_string(s.p + 1, s.end, &escaped);
		if (close == NULL)
			return 0;
		key->type = JSON_STRING;
		key->ptr = s.p + 1;
		key->len = (size_t)(close - s.p - 1);
		key->escaped = escaped;
		s.p = close + 1;
		skip_ws(&s);
		if (s.p >= s.end || *s.p != ':')
			return 0;
		s.p++;
	}
	/* Scan the value with a one-node query that captures it. */
	memset(&capture, 0, sizeof(capture));
	capture.slot = 0;
	memset(&slot, 0, sizeof(slot));
	s.slots = &slot;
	if (scan_value(&s, &capture) != 0)
		return 0;
	*value = slot;
	it->p = s.p;
	return 1;
}
