/* The exact stage's join: the pairs of records with the same card and amount (hotel, last 4,
   amount, packed in one int64) whose times lie within their hotel's window. DuckDB's hash join
   does the same for millions of records at 3-4 CPU-seconds, mostly waiting on memory; here both
   sides are first split by a hash of the key into parts whose hash table fits a core's cache,
   which makes it several times cheaper. Called by `legs.Leg.pairs` (see `window_join.py`).
   Also: which of millions of pairs join two records that have no other pair (`lone`), the groups
   the others form (`components`), and which records' references may be on the other side
   (`shared`). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

typedef struct {
    int64_t key, ts;
    int32_t pos, hotel;
} record;

/* Part of a key: the top bits of one multiplicative hash; slot in a part's table: of another. */
static inline uint64_t part_hash(int64_t key) { return (uint64_t)key * 0x9E3779B97F4A7C15ULL; }
static inline uint64_t slot_hash(int64_t key) { return (uint64_t)key * 0xC2B2AE3D27D4EB4FULL; }

#define PART_RECORDS 65536 /* right records per part, about: its table then fits a core's cache */

#define KEY_AMOUNT ((INT64_C(1) << 33) - 1)

/* Hotel (16 bits), last 4 (14) and amount (34, offset) in one number. */
static inline int64_t card_key(int32_t hotel, int16_t last4, int64_t amount) {
    return (int64_t)((uint64_t)hotel << 48 | (uint64_t)last4 << 34 | (uint64_t)(amount + (INT64_C(1) << 33)));
}

typedef struct {
    const int32_t *hotel;
    const int16_t *last4;
    const int64_t *amount, *ts;
    const int32_t *pos;
    int64_t n;
} side;

/* What is wrong with record i of a side, or NULL: a position within the arrays (`size`), a hotel
   code with a window, a card number (last 4 in 0..9999) and an amount the key holds. */
static const char *wrong(const side *s, int32_t i, int64_t size, int64_t hotels) {
    if (i < 0 || i >= size) return "a position is out of range";
    if (s->hotel[i] < 0 || s->hotel[i] >= hotels || s->hotel[i] >= 1 << 16) return "a hotel code has no window";
    if (s->last4[i] < 0 || s->last4[i] > 9999) return "a record has no card number";
    if (s->amount[i] < -KEY_AMOUNT || s->amount[i] > KEY_AMOUNT) return "an amount is beyond the key's 34 bits";
    return NULL;
}

/* Copy records `pos` of a side (`size` records, hotel codes below `hotels`) into parts (`start`:
   each part's first record, n_parts + 1), each checked on the way (`problem`: what is wrong with
   one; NULL returned, as it is when memory runs out). */
static record *split(const side *s, int64_t size, int64_t hotels, int bits, int64_t *start, const char **problem) {
    const int32_t *pos = s->pos;
    int64_t n = s->n;
    int64_t parts = (int64_t)1 << bits;
    record *out = malloc((n ? n : 1) * sizeof(record));
    int64_t *fill = malloc(parts * sizeof(int64_t));
    if (!out || !fill) {
        free(out), free(fill);
        return NULL;
    }
#define PART(key) (bits ? (part_hash(key) >> (64 - bits)) : 0)
    memset(start, 0, (parts + 1) * sizeof(int64_t));
    for (int64_t a = 0; a < n; a++) {
        int32_t i = pos[a];
        if ((*problem = wrong(s, i, size, hotels))) {
            free(out), free(fill);
            return NULL;
        }
        start[PART(card_key(s->hotel[i], s->last4[i], s->amount[i])) + 1]++;
    }
    for (int64_t p = 0; p < parts; p++) start[p + 1] += start[p];
    memcpy(fill, start, parts * sizeof(int64_t));
    for (int64_t a = 0; a < n; a++) { /* each record's part again from its key: cheaper than keeping it */
        int32_t i = pos[a];
        int64_t key = card_key(s->hotel[i], s->last4[i], s->amount[i]);
        record *r = &out[fill[PART(key)]++];
        r->key = key, r->ts = s->ts[i], r->pos = i, r->hotel = s->hotel[i];
    }
#undef PART
    free(fill);
    return out;
}

typedef struct {
    int32_t l, r, dt;
} pair;

/* The pairs found, in the order found, and how many have their left record in each block of
   4,096 positions. */
typedef struct {
    pair *p;
    int64_t n, room, *block;
} found;

static int keep(found *f, int32_t l, int32_t r, int32_t dt) {
    if (f->n == f->room) {
        int64_t room = f->room ? 2 * f->room : 1 << 16;
        pair *p = realloc(f->p, room * sizeof(pair));
        if (!p) return -1;
        f->p = p, f->room = room;
    }
    f->p[f->n++] = (pair){l, r, dt};
    f->block[(l >> 12) + 1]++;
    return 0;
}

/* The pairs in left-record order (stable): first by block of 4,096 left positions, then each
   block by the rest, its counts in a core's cache (one counting sort over all positions would
   miss the cache at every pair). */
static int in_left_order(const found *f, int64_t blocks, int32_t *out_l, int32_t *out_r, int32_t *out_dt) {
    pair *tmp = malloc((f->n ? f->n : 1) * sizeof(pair));
    if (!tmp) return -1;
    int64_t *start = f->block;
    for (int64_t b = 0; b < blocks; b++) start[b + 1] += start[b];
    for (int64_t a = 0; a < f->n; a++) tmp[start[f->p[a].l >> 12]++] = f->p[a];
    int64_t at[4097], from = 0;
    for (int64_t b = 0; b < blocks; b++) { /* start[b]: now the end of block b */
        int64_t to = start[b];
        memset(at, 0, sizeof(at));
        for (int64_t a = from; a < to; a++) at[(tmp[a].l & 4095) + 1]++;
        at[0] = from;
        for (int k = 0; k < 4096; k++) at[k + 1] += at[k];
        for (int64_t a = from; a < to; a++) {
            int64_t o = at[tmp[a].l & 4095]++;
            out_l[o] = tmp[a].l, out_r[o] = tmp[a].r, out_dt[o] = tmp[a].dt;
        }
        from = to;
    }
    free(tmp);
    return 0;
}

/* Pairs (l, r) of the same card_key with lo[h] <= ts_l[l] - ts_r[r] <= hi[h], h the right
   record's hotel; written to out_* in left-record order when they hold them all (`cap`).
   Returns how many there are (-1: out of memory, or `problem` with a record). */
static int64_t join(const side *left, int64_t nl_all, const side *right, int64_t nr_all, const int64_t *lo,
                    const int64_t *hi, int64_t hotels, int32_t *out_l, int32_t *out_r, int32_t *out_dt, int64_t cap,
                    const char **problem) {
    int64_t nr = right->n;
    int bits = 0;
    while ((nr >> bits) > PART_RECORDS && bits < 16) bits++;
    int64_t parts = (int64_t)1 << bits, n = -1;
    int64_t *lstart = malloc((parts + 1) * sizeof(int64_t)), *rstart = malloc((parts + 1) * sizeof(int64_t));
    record *L = NULL, *R = NULL;
    int32_t *head = NULL, *next = NULL;
    int64_t blocks = (nl_all >> 12) + 1;
    found f = {NULL, 0, 0, calloc(blocks + 1, sizeof(int64_t))};
    if (!lstart || !rstart || !f.block) goto done;
    R = split(right, nr_all, hotels, bits, rstart, problem);
    L = R ? split(left, nl_all, hotels, bits, lstart, problem) : NULL;
    if (!L) goto done;
    int64_t most = 1;
    for (int64_t p = 0; p < parts; p++)
        if (rstart[p + 1] - rstart[p] > most) most = rstart[p + 1] - rstart[p];
    int table_bits = 1;
    while (((int64_t)1 << table_bits) < 2 * most) table_bits++;
    head = malloc(((int64_t)1 << table_bits) * sizeof(int32_t));
    next = malloc(most * sizeof(int32_t));
    if (!head || !next) goto done;
    for (int64_t p = 0; p < parts; p++) {
        const record *rp = R + rstart[p], *lp = L + lstart[p];
        int64_t rn = rstart[p + 1] - rstart[p], ln = lstart[p + 1] - lstart[p];
        if (!rn || !ln) continue;
        int tb = 1;
        while (((int64_t)1 << tb) < 2 * rn) tb++;
        memset(head, 0xff, ((int64_t)1 << tb) * sizeof(int32_t));
        for (int64_t a = rn - 1; a >= 0; a--) { /* each slot's chain in the records' order */
            uint64_t s = slot_hash(rp[a].key) >> (64 - tb);
            next[a] = head[s], head[s] = (int32_t)a;
        }
        for (int64_t b = 0; b < ln; b++) {
            const record *x = lp + b;
            for (int32_t a = head[slot_hash(x->key) >> (64 - tb)]; a >= 0; a = next[a]) {
                const record *y = rp + a;
                if (y->key != x->key) continue;
                int64_t dt = x->ts - y->ts;
                if (dt < lo[y->hotel] || dt > hi[y->hotel]) continue;
                if (keep(&f, x->pos, y->pos, (int32_t)dt) < 0) goto done;
            }
        }
    }
    free(L), free(R), free(head), free(next);
    L = R = NULL, head = next = NULL;
    if (f.n <= cap && in_left_order(&f, blocks, out_l, out_r, out_dt) < 0) goto done;
    n = f.n;
done:
    free(lstart), free(rstart), free(L), free(R), free(head), free(next), free(f.p), free(f.block);
    return n;
}

static int view(PyObject *obj, Py_buffer *buf, Py_ssize_t itemsize, int writable, const char *name) {
    if (PyObject_GetBuffer(obj, buf, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0)) < 0)
        return -1;
    if (buf->itemsize != itemsize) {
        PyErr_Format(PyExc_TypeError, "%s: %zd-byte items expected, got %zd", name, itemsize, buf->itemsize);
        PyBuffer_Release(buf);
        return -1;
    }
    return 0;
}

#define ARGS 15

static PyObject *window_join(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *o[ARGS];
    if (!PyArg_UnpackTuple(args, "join", ARGS, ARGS, &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6], &o[7], &o[8],
                           &o[9], &o[10], &o[11], &o[12], &o[13], &o[14]))
        return NULL;
    static const char *names[ARGS] = {"hotel_l", "last4_l", "amount_l", "ts_l", "pos_l", "hotel_r", "last4_r",
                                      "amount_r", "ts_r", "pos_r", "lo", "hi", "out_l", "out_r", "out_dt"};
    static const Py_ssize_t size[ARGS] = {4, 2, 8, 8, 4, 4, 2, 8, 8, 4, 8, 8, 4, 4, 4};
    Py_buffer b[ARGS];
    int got = 0;
    PyObject *result = NULL;
    for (; got < ARGS; got++)
        if (view(o[got], &b[got], size[got], got >= 12, names[got]) < 0) goto out;
    Py_ssize_t cap = b[12].len / 4, hotels = b[10].len / 8;
    int64_t nl_all = b[0].len / 4, nr_all = b[5].len / 4;
    if (b[1].len / 2 != nl_all || b[2].len / 8 != nl_all || b[3].len / 8 != nl_all || b[6].len / 2 != nr_all ||
        b[7].len / 8 != nr_all || b[8].len / 8 != nr_all || b[11].len != b[10].len || b[13].len / 4 != cap ||
        b[14].len / 4 != cap) {
        PyErr_SetString(PyExc_ValueError, "join: arrays of one side, or the outputs, differ in length");
        goto out;
    }
    side left = {b[0].buf, b[1].buf, b[2].buf, b[3].buf, b[4].buf, b[4].len / 4};
    side right = {b[5].buf, b[6].buf, b[7].buf, b[8].buf, b[9].buf, b[9].len / 4};
    const char *problem = NULL;
    int64_t n;
    Py_BEGIN_ALLOW_THREADS
    n = join(&left, nl_all, &right, nr_all, b[10].buf, b[11].buf, hotels, b[12].buf, b[13].buf, b[14].buf, cap,
             &problem);
    Py_END_ALLOW_THREADS
    if (problem)
        PyErr_Format(PyExc_ValueError, "join: %s", problem);
    else
        result = n < 0 ? PyErr_NoMemory() : PyLong_FromLongLong(n);
out:
    while (got-- > 0) PyBuffer_Release(&b[got]);
    return result;
}

/* out[i] = whether pair (l[i], r[i]) is the only pair of l[i] and the only pair of r[i]. Seen
   once / seen twice are kept as bits per record: for millions of records they stay in a core's
   cache, where counts per record (numpy's bincount, 8 bytes each) miss it at every pair. */
static void lone_pairs(const int32_t *l, const int32_t *r, int64_t m, int64_t nl, int64_t nr, uint64_t *bits,
                       uint8_t *out) {
    uint64_t *once_l = bits, *twice_l = once_l + nl / 64 + 1, *once_r = twice_l + nl / 64 + 1,
             *twice_r = once_r + nr / 64 + 1;
    for (int64_t i = 0; i < m; i++) {
        uint32_t a = (uint32_t)l[i], b = (uint32_t)r[i];
        uint64_t bit_a = UINT64_C(1) << (a & 63), bit_b = UINT64_C(1) << (b & 63);
        twice_l[a >> 6] |= once_l[a >> 6] & bit_a, once_l[a >> 6] |= bit_a;
        twice_r[b >> 6] |= once_r[b >> 6] & bit_b, once_r[b >> 6] |= bit_b;
    }
    for (int64_t i = 0; i < m; i++) {
        uint32_t a = (uint32_t)l[i], b = (uint32_t)r[i];
        out[i] = !((twice_l[a >> 6] >> (a & 63)) & 1) && !((twice_r[b >> 6] >> (b & 63)) & 1);
    }
}

static PyObject *lone(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *o[3];
    if (!PyArg_UnpackTuple(args, "lone", 3, 3, &o[0], &o[1], &o[2])) return NULL;
    static const char *names[3] = {"l", "r", "out"};
    static const Py_ssize_t size[3] = {4, 4, 1};
    Py_buffer b[3];
    int got = 0;
    PyObject *result = NULL;
    for (; got < 3; got++)
        if (view(o[got], &b[got], size[got], got == 2, names[got]) < 0) goto out;
    int64_t m = b[0].len / 4, nl = 0, nr = 0;
    if (b[1].len / 4 != m || b[2].len != m) {
        PyErr_SetString(PyExc_ValueError, "lone: l, r and out differ in length");
        goto out;
    }
    const int32_t *l = b[0].buf, *r = b[1].buf;
    for (int64_t i = 0; i < m; i++) {
        if (l[i] < 0 || r[i] < 0) {
            PyErr_SetString(PyExc_ValueError, "lone: a position is negative");
            goto out;
        }
        if (l[i] >= nl) nl = (int64_t)l[i] + 1;
        if (r[i] >= nr) nr = (int64_t)r[i] + 1;
    }
    uint64_t *bits = calloc(2 * (nl / 64 + 1) + 2 * (nr / 64 + 1), sizeof(uint64_t));
    if (!bits) {
        result = PyErr_NoMemory();
        goto out;
    }
    Py_BEGIN_ALLOW_THREADS
    lone_pairs(l, r, m, nl, nr, bits, b[2].buf);
    Py_END_ALLOW_THREADS
    free(bits);
    result = Py_NewRef(Py_None);
out:
    while (got-- > 0) PyBuffer_Release(&b[got]);
    return result;
}

/* The connected components of a bipartite graph (left nodes 0..nl-1, right nodes nl..nl+nr-1,
   edges (l[i], nl + r[i])), numbered from 0 in the order of their lowest node, as scipy's
   connected_components numbers them. Union-find whose root is a component's lowest node: every
   node's parent is then lower than itself, so one pass in node order gives each its number. */
static void label_components(const int32_t *l, const int32_t *r, int64_t m, int64_t nl, int64_t n,
                             int32_t *label) {
    for (int64_t x = 0; x < n; x++) label[x] = (int32_t)x;
    for (int64_t i = 0; i < m; i++) {
        int32_t a = l[i], b = (int32_t)(nl + r[i]);
        while (label[a] != a) a = label[a] = label[label[a]];
        while (label[b] != b) b = label[b] = label[label[b]];
        if (a < b) label[b] = a;
        else label[a] = b;
    }
    int32_t k = 0;
    for (int64_t x = 0; x < n; x++) /* a root takes the next number (held as -1 - number) */
        label[x] = label[x] == x ? -1 - k++ : label[label[x]];
    for (int64_t x = 0; x < n; x++) label[x] = -1 - label[x];
}

static PyObject *components(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *o[3];
    Py_ssize_t nl, nr;
    if (!PyArg_ParseTuple(args, "OOnnO", &o[0], &o[1], &nl, &nr, &o[2])) return NULL;
    static const char *names[3] = {"l", "r", "out"};
    Py_buffer b[3];
    int got = 0;
    PyObject *result = NULL;
    for (; got < 3; got++)
        if (view(o[got], &b[got], 4, got == 2, names[got]) < 0) goto out;
    int64_t m = b[0].len / 4;
    if (b[1].len / 4 != m || nl < 0 || nr < 0 || nl + nr >= INT32_MAX || b[2].len / 4 != nl + nr) {
        PyErr_SetString(PyExc_ValueError, "components: l and r differ in length, or out is not nl + nr long");
        goto out;
    }
    const int32_t *l = b[0].buf, *r = b[1].buf;
    for (int64_t i = 0; i < m; i++)
        if (l[i] < 0 || l[i] >= nl || r[i] < 0 || r[i] >= nr) {
            PyErr_SetString(PyExc_ValueError, "components: a node is out of range");
            goto out;
        }
    Py_BEGIN_ALLOW_THREADS
    label_components(l, r, m, nl, nl + nr, b[2].buf);
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
out:
    while (got-- > 0) PyBuffer_Release(&b[got]);
    return result;
}

/* Which keys of a may be among the keys of b (out_a) and of b among those of a (out_b), 0 being
   no key and a record whose `on` is 0 not taking part. Both sides are split by a hash of the key
   into parts of at most some 130,000 keys; in each part, filters of about 8 bits a key (128 KB
   at most: within a core's cache): a side's keys set, the other side's tested, turn and turn
   about, on the keys still in and with another hash each turn. No key the two share is left
   out; of the others, hardly any stays. */
static const uint64_t TURN[] = {0x9E3779B97F4A7C15ULL, 0xC2B2AE3D27D4EB4FULL, 0x165667B19E3779F9ULL,
                                0xD6E8FEB86659FD93ULL, 0xFF51AFD7ED558CCDULL, 0xC4CEB9FE1A85EC53ULL};

/* Keep the keys of `test` (with their positions) that the filter of `set`'s keys lets through. */
static int64_t sift(const int64_t *set, int64_t n_set, int64_t *test, int32_t *pos, int64_t n_test, uint64_t *bits,
                    int nbits, uint64_t mul) {
    memset(bits, 0, ((size_t)1 << nbits) / 8);
    for (int64_t k = 0; k < n_set; k++) {
        uint64_t slot = ((uint64_t)set[k] * mul) >> (64 - nbits);
        bits[slot >> 6] |= UINT64_C(1) << (slot & 63);
    }
    int64_t kept = 0;
    for (int64_t k = 0; k < n_test; k++) {
        uint64_t slot = ((uint64_t)test[k] * mul) >> (64 - nbits);
        test[kept] = test[k], pos[kept] = pos[k]; /* without a branch: keys go either way */
        kept += (bits[slot >> 6] >> (slot & 63)) & 1;
    }
    return kept;
}

/* Memory for millions of keys, in huge pages where the kernel has them (a fault per 2 MB, not per
   4 KB: on fresh memory the faults cost as much as the work). Freed with free(). */
static void *big(size_t bytes) {
    void *p = NULL;
    if (bytes < ((size_t)4 << 20)) return malloc(bytes ? bytes : 1);
    if (posix_memalign(&p, (size_t)2 << 20, bytes)) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE);
#endif
    return p;
}

/* A side's keys (on, not 0) and their positions, by part (`start`: each part's first, parts + 1). */
static int by_part(const int64_t *key, const uint8_t *on, int64_t n, int pbits, int64_t *start, int64_t **keys,
                   int32_t **pos) {
    int64_t parts = (int64_t)1 << pbits;
    *keys = big(n * sizeof(int64_t));
    *pos = big(n * sizeof(int32_t));
    int64_t *fill = malloc(parts * sizeof(int64_t));
    if (!*keys || !*pos || !fill) {
        free(fill);
        return -1;
    }
#define PART(x) (pbits ? (int64_t)(((uint64_t)(x) * TURN[0]) >> (64 - pbits)) : 0)
    memset(start, 0, (parts + 1) * sizeof(int64_t));
    for (int64_t i = 0; i < n; i++)
        if (on[i] && key[i]) start[PART(key[i]) + 1]++;
    for (int64_t p = 0; p < parts; p++) start[p + 1] += start[p];
    memcpy(fill, start, parts * sizeof(int64_t));
    for (int64_t i = 0; i < n; i++)
        if (on[i] && key[i]) {
            int64_t at = fill[PART(key[i])]++;
            (*keys)[at] = key[i], (*pos)[at] = (int32_t)i;
        }
#undef PART
    free(fill);
    return 0;
}

static int shared_keys(const int64_t *a, const uint8_t *on_a, int64_t na, const int64_t *b, const uint8_t *on_b,
                       int64_t nb, uint8_t *out_a, uint8_t *out_b) {
    int pbits = 0;
    while (((na > nb ? na : nb) >> pbits) > 131072 && pbits < 16) pbits++;
    int64_t parts = (int64_t)1 << pbits;
    int64_t *sa = malloc((parts + 1) * sizeof(int64_t)), *sb = malloc((parts + 1) * sizeof(int64_t));
    int64_t *ka_all = NULL, *kb_all = NULL;
    int32_t *pa = NULL, *pb = NULL;
    uint64_t *bits = malloc(((size_t)1 << 20) / 8);
    int ok = sa && sb && bits && by_part(a, on_a, na, pbits, sa, &ka_all, &pa) == 0 &&
             by_part(b, on_b, nb, pbits, sb, &kb_all, &pb) == 0;
    memset(out_a, 0, na), memset(out_b, 0, nb);
    for (int64_t p = 0; ok && p < parts; p++) {
        int64_t *keys_a = ka_all + sa[p], *keys_b = kb_all + sb[p];
        int32_t *pos_a = pa + sa[p], *pos_b = pb + sb[p];
        int64_t ka = sa[p + 1] - sa[p], kb = sb[p + 1] - sb[p];
        int nbits = 10; /* about 8 bits a key */
        while (nbits < 20 && ((int64_t)1 << nbits) < 8 * (ka > kb ? ka : kb)) nbits++;
        for (int turn = 1; turn < (int)(sizeof(TURN) / sizeof(TURN[0])) && ka && kb; turn++) {
            if (turn % 2)
                ka = sift(keys_b, kb, keys_a, pos_a, ka, bits, nbits, TURN[turn]);
            else
                kb = sift(keys_a, ka, keys_b, pos_b, kb, bits, nbits, TURN[turn]);
        }
        if (!ka || !kb) continue;
        for (int64_t k = 0; k < ka; k++) out_a[pos_a[k]] = 1;
        for (int64_t k = 0; k < kb; k++) out_b[pos_b[k]] = 1;
    }
    free(sa), free(sb), free(bits), free(ka_all), free(kb_all), free(pa), free(pb);
    return ok ? 0 : -1;
}

static PyObject *shared(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *o[6];
    if (!PyArg_UnpackTuple(args, "shared", 6, 6, &o[0], &o[1], &o[2], &o[3], &o[4], &o[5])) return NULL;
    static const char *names[6] = {"a", "on_a", "b", "on_b", "out_a", "out_b"};
    static const Py_ssize_t size[6] = {8, 1, 8, 1, 1, 1};
    Py_buffer v[6];
    int got = 0;
    PyObject *result = NULL;
    for (; got < 6; got++)
        if (view(o[got], &v[got], size[got], got >= 4, names[got]) < 0) goto out;
    int64_t na = v[0].len / 8, nb = v[2].len / 8;
    if (v[1].len != na || v[4].len != na || v[3].len != nb || v[5].len != nb || na >= INT32_MAX || nb >= INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "shared: a side's keys, mask and output differ in length");
        goto out;
    }
    int failed;
    Py_BEGIN_ALLOW_THREADS
    failed = shared_keys(v[0].buf, v[1].buf, na, v[2].buf, v[3].buf, nb, v[4].buf, v[5].buf);
    Py_END_ALLOW_THREADS
    if (failed) {
        result = PyErr_NoMemory();
        goto out;
    }
    result = Py_NewRef(Py_None);
out:
    while (got-- > 0) PyBuffer_Release(&v[got]);
    return result;
}

/* out[i] (one byte): whether record i may have the card key (hotel, last 4, amount; with no
   amounts, hotel and last 4) of one of the records `of` (positions): a filter of 32 bits a key,
   two of them set by each key (the top bits of two hashes), which fits a core's cache for
   hundreds of thousands of keys. Every record of one of their keys passes (equal records make
   equal keys and bits), and at most about one in 250 others; no record without a card number
   does. Lets a join of a few records against millions of a side read only those that may meet
   them. */
static void card_filter(const int32_t *hotel, const int16_t *last4, const int64_t *amount, int64_t n,
                        const int32_t *of, int64_t k, uint64_t *bits, int nbits, uint8_t *out) {
    for (int64_t j = 0; j < k; j++) {
        int32_t i = of[j];
        if (last4[i] < 0) continue;
        int64_t key = card_key(hotel[i], last4[i], amount ? amount[i] : 0);
        uint64_t a = slot_hash(key) >> (64 - nbits), b = part_hash(key) >> (64 - nbits);
        bits[a >> 6] |= UINT64_C(1) << (a & 63), bits[b >> 6] |= UINT64_C(1) << (b & 63);
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t key = card_key(hotel[i], last4[i], amount ? amount[i] : 0);
        uint64_t a = slot_hash(key) >> (64 - nbits), b = part_hash(key) >> (64 - nbits);
        out[i] = last4[i] >= 0 && (bits[a >> 6] >> (a & 63)) & (bits[b >> 6] >> (b & 63)) & 1;
    }
}

static PyObject *same_card(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *o[5];
    if (!PyArg_UnpackTuple(args, "same_card", 5, 5, &o[0], &o[1], &o[2], &o[3], &o[4])) return NULL;
    static const char *names[5] = {"hotel", "last4", "amount", "of", "out"};
    static const Py_ssize_t size[5] = {4, 2, 8, 4, 1};
    Py_buffer v[5];
    int got = 0;
    PyObject *result = NULL;
    for (; got < 5; got++)
        if (view(o[got], &v[got], size[got], got == 4, names[got]) < 0) goto out;
    int64_t n = v[0].len / 4, k = v[3].len / 4;
    if (v[1].len / 2 != n || (v[2].len && v[2].len / 8 != n) || v[4].len != n) {
        PyErr_SetString(PyExc_ValueError, "same_card: the side's arrays and out differ in length");
        goto out;
    }
    const int32_t *of = v[3].buf;
    for (int64_t j = 0; j < k; j++)
        if (of[j] < 0 || of[j] >= n) {
            PyErr_SetString(PyExc_ValueError, "same_card: a position is out of range");
            goto out;
        }
    int nbits = 16;
    while (nbits < 32 && ((int64_t)1 << nbits) < 32 * k) nbits++;
    uint64_t *bits = calloc(((size_t)1 << nbits) / 64, sizeof(uint64_t));
    if (!bits) {
        result = PyErr_NoMemory();
        goto out;
    }
    Py_BEGIN_ALLOW_THREADS
    card_filter(v[0].buf, v[1].buf, v[2].len ? v[2].buf : NULL, n, of, k, bits, nbits, v[4].buf);
    Py_END_ALLOW_THREADS
    free(bits);
    result = Py_NewRef(Py_None);
out:
    while (got-- > 0) PyBuffer_Release(&v[got]);
    return result;
}

static PyMethodDef methods[] = {
    {"same_card", same_card, METH_VARARGS,
     "same_card(hotel, last4, amount, of, out) -> None\n\n"
     "out[i] (one byte): whether record i may have the hotel, last 4 and amount of one of the records\n"
     "`of` (int32 positions). Every record that has passes; at most about one in 250 others too; none\n"
     "without a card number (last 4 < 0). Hotels int32, last 4 int16, amounts int64 (none: the hotel\n"
     "and last 4 alone)."},
    {"shared", shared, METH_VARARGS,
     "shared(a, on_a, b, on_b, out_a, out_b) -> None\n\n"
     "out_a[i] (one byte): whether key a[i] may be among the keys of b; out_b[j]: whether b[j] may be\n"
     "among those of a. Keys int64 (0: none); on_ (one byte): the records taking part. Every key the two\n"
     "share passes; a few others too."},
    {"components", components, METH_VARARGS,
     "components(l, r, nl, nr, out) -> None\n\n"
     "out (int32, nl + nr): the connected component of each node of the graph whose edges join left\n"
     "node l[i] (0..nl-1) and right node r[i] (0..nr-1), numbered from 0 in the order of their lowest\n"
     "node (left nodes first)."},
    {"lone", lone, METH_VARARGS,
     "lone(l, r, out) -> None\n\n"
     "out[i] (one byte) = whether pair (l[i], r[i]) is the only pair of l[i] and the only pair of r[i].\n"
     "l and r: int32 positions, not negative."},
    {"join", window_join, METH_VARARGS,
     "join(hotel_l, last4_l, amount_l, ts_l, pos_l, hotel_r, last4_r, amount_r, ts_r, pos_r, lo, hi,\n"
     "     out_l, out_r, out_dt) -> n\n\n"
     "The pairs of left records pos_l and right records pos_r of the same hotel, last 4 and amount\n"
     "whose time gap ts_l - ts_r lies within [lo[h], hi[h]] of their hotel h, written to the out_\n"
     "arrays (int32: left position, right position, gap) in left-record order when they hold them\n"
     "all. Returns how many pairs there are: more than the outputs hold means call again with larger\n"
     "ones. Hotels and positions int32, last 4 int16, amounts and times int64, bounds int64 per hotel."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_window_join",
                                    "Card payments of the same card and amount within a time window.", -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__window_join(void) { return PyModule_Create(&module); }
