/* Text columns of millions of rows read straight from Arrow's buffers, where DuckDB's string
   functions would make a string per row:
   - record ids that are UUIDs written the canonical way ('0f8fad5b-d9cb-469f-a165-70867728950e',
     lower case), held as their 16 bytes and written out again as they were read (`record_ids.py`);
   - the last 4 digits of a card number, masked or not (`sides.last4_digits`). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static const char HEX[] = "0123456789abcdef";
static int8_t NIBBLE[256]; /* -1: not a lower-case hex digit */
static uint16_t PAIR[256]; /* a byte's two hex digits, as they lie in memory */
/* Where each of the 16 bytes' two digits lie in the text; dashes at 8, 13, 18 and 23. */
static const int AT[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};

/* The 16 bytes of each of k ids (offsets[i]..offsets[i + 1] in data), or 0 at the first that is
   not a canonical UUID. */
static int pack_ids(const int64_t *offsets, int64_t k, const uint8_t *data, int64_t size, uint8_t *out) {
    for (int64_t i = 0; i < k; i++) {
        int64_t a = offsets[i];
        if (a < 0 || offsets[i + 1] != a + 36 || offsets[i + 1] > size) return 0;
        const uint8_t *s = data + a;
        uint8_t *t = out + 16 * i;
        int bad = (s[8] ^ '-') | (s[13] ^ '-') | (s[18] ^ '-') | (s[23] ^ '-');
        for (int j = 0; j < 16; j++) {
            int hi = NIBBLE[s[AT[j]]], lo = NIBBLE[s[AT[j] + 1]];
            bad |= (hi | lo) & 0x100; /* a negative digit has that bit set */
            t[j] = (uint8_t)((hi & 15) << 4 | (lo & 15));
        }
        if (bad) return 0;
    }
    return 1;
}

static void format_ids(const uint8_t *packed, const int64_t *idx, int64_t k, uint8_t *out) {
    for (int64_t i = 0; i < k; i++) {
        const uint8_t *s = packed + 16 * idx[i];
        uint8_t *t = out + 36 * i;
        for (int j = 0; j < 16; j++) memcpy(t + AT[j], &PAIR[s[j]], 2);
        t[8] = t[13] = t[18] = t[23] = '-';
    }
}

/* The last 4 digits of a card number as written: its last four characters (trailing spaces aside;
   a value of four or fewer, whole), spaces before them aside, when they are all digits; else -1. */
static int16_t last4_of(const uint8_t *s, int64_t len) {
    int64_t end = len;
    while (end > 0 && s[end - 1] == ' ') end--;
    int64_t start = len <= 4 || end < 4 ? 0 : end - 4;
    while (start < end && s[start] == ' ') start++;
    if (start == end) return -1;
    int16_t v = 0;
    for (int64_t i = start; i < end; i++) {
        unsigned d = (unsigned)s[i] - '0';
        if (d > 9) return -1;
        v = (int16_t)(v * 10 + (int16_t)d);
    }
    return v;
}

static PyObject *last4(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer offsets, data, out;
    int width;
    if (!PyArg_ParseTuple(args, "y*iy*w*", &offsets, &width, &data, &out)) return NULL;
    PyObject *result = NULL;
    int64_t k = out.len / 2;
    if ((width != 4 && width != 8) || out.len % 2 || offsets.len < (k + 1) * width) {
        PyErr_SetString(PyExc_ValueError, "last4: k + 1 offsets of 4 or 8 bytes and k int16 outputs expected");
        goto out;
    }
    int ok = 1;
    Py_BEGIN_ALLOW_THREADS
    const int32_t *o32 = offsets.buf;
    const int64_t *o64 = offsets.buf;
    int16_t *t = out.buf;
    for (int64_t i = 0; i < k && ok; i++) {
        int64_t a = width == 4 ? o32[i] : o64[i], b = width == 4 ? o32[i + 1] : o64[i + 1];
        if (a < 0 || b < a || b > data.len) ok = 0;
        else t[i] = last4_of((const uint8_t *)data.buf + a, b - a);
    }
    Py_END_ALLOW_THREADS
    if (ok) result = Py_NewRef(Py_None);
    else PyErr_SetString(PyExc_ValueError, "last4: an offset lies outside the data");
out:
    PyBuffer_Release(&offsets), PyBuffer_Release(&data), PyBuffer_Release(&out);
    return result;
}

static PyObject *pack(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer offsets, data, out;
    if (!PyArg_ParseTuple(args, "y*y*w*", &offsets, &data, &out)) return NULL;
    PyObject *result = NULL;
    int64_t k = offsets.len / 8 - 1;
    if (k < 0 || offsets.len % 8 || out.len != 16 * k) {
        PyErr_SetString(PyExc_ValueError, "pack: k + 1 int64 offsets and 16 * k bytes of output expected");
        goto out;
    }
    int ok;
    Py_BEGIN_ALLOW_THREADS
    ok = pack_ids(offsets.buf, k, data.buf, data.len, out.buf);
    Py_END_ALLOW_THREADS
    result = PyBool_FromLong(ok);
out:
    PyBuffer_Release(&offsets), PyBuffer_Release(&data), PyBuffer_Release(&out);
    return result;
}

static PyObject *format(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer packed, idx, out;
    if (!PyArg_ParseTuple(args, "y*y*w*", &packed, &idx, &out)) return NULL;
    PyObject *result = NULL;
    int64_t n = packed.len / 16, k = idx.len / 8;
    const int64_t *at = idx.buf;
    if (packed.len % 16 || idx.len % 8 || out.len != 36 * k) {
        PyErr_SetString(PyExc_ValueError, "format: 16-byte ids, int64 positions and 36 bytes of output each expected");
        goto out;
    }
    for (int64_t i = 0; i < k; i++)
        if (at[i] < 0 || at[i] >= n) {
            PyErr_SetString(PyExc_IndexError, "format: a position is out of range");
            goto out;
        }
    Py_BEGIN_ALLOW_THREADS
    format_ids(packed.buf, at, k, out.buf);
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
out:
    PyBuffer_Release(&packed), PyBuffer_Release(&idx), PyBuffer_Release(&out);
    return result;
}

static PyMethodDef methods[] = {
    {"last4", last4, METH_VARARGS,
     "last4(offsets, width, data, out) -> None\n\n"
     "The last 4 digits of each of k strings (offsets: k + 1 integers of `width` bytes into data) into\n"
     "out (int16): the last four characters, trailing spaces aside (a value of four or fewer: whole), when\n"
     "they are digits (spaces before them aside); else -1."},
    {"pack", pack, METH_VARARGS,
     "pack(offsets, data, out) -> bool\n\n"
     "The 16 bytes of each string (offsets: k + 1 int64 into data) into out (16 * k bytes), when every\n"
     "one is a canonical lower-case UUID; False (out partly written) at the first that is not."},
    {"format", format, METH_VARARGS,
     "format(packed, idx, out) -> None\n\n"
     "The canonical text of ids idx (int64 positions) of packed (16 bytes each) into out (36 bytes each)."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_text", "Text columns read from Arrow's buffers.",
                                    -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__text(void) {
    for (int c = 0; c < 256; c++) NIBBLE[c] = -1;
    for (int c = 0; c < 16; c++) NIBBLE[(uint8_t)HEX[c]] = (int8_t)c;
    for (int c = 0; c < 256; c++) memcpy(&PAIR[c], (const char[2]){HEX[c >> 4], HEX[c & 15]}, 2);
    return PyModule_Create(&module);
}
