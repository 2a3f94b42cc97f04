/* Row images of a rows event, from binlog bytes straight to Avro bytes.
 *
 * The compiled counterpart of row_decoder.py followed by RowCodec.encode: no Python value is
 * built for a column. It handles the common, valid values of the common types exactly; for
 * anything else (a zero or impossible date, text that is not valid in its character set, a
 * value out of range, NULL in a NOT NULL column, an event that does not add up) it returns
 * None, and the caller decodes that event through the reference path, so its values and its
 * errors are the reference's. The unit tests hold both paths to the same bytes.
 *
 * Every read is bounds-checked against the event body.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

enum kind {
    K_INT = 1,      /* size 1, 2, 3, 4, 8; signed or unsigned (p1 = size, p2 = unsigned) */
    K_UINT64,       /* BIGINT UNSIGNED: Avro decimal bytes */
    K_FLOAT,
    K_DOUBLE,
    K_DECIMAL,      /* p1 = precision (<= 65), p2 = scale */
    K_YEAR,
    K_BIT,          /* p1 = bits */
    K_DATE,
    K_DATETIME2,    /* p1 = fsp */
    K_TIMESTAMP2,   /* p1 = fsp */
    K_TIME2,        /* p1 = fsp */
    K_STRING,       /* p1 = length-prefix bytes, p2 = text mode, p3 = BINARY(n) pad length */
    K_ENUM,         /* p1 = index bytes; members */
    K_SET,          /* p1 = mask bytes; members */
};

enum text_mode { T_BINARY = 0, T_UTF8 = 1, T_ASCII = 2, T_LATIN1 = 3 };

typedef struct {
    int kind;
    int nullable;
    long p1, p2, p3;
    PyObject *members; /* tuple of bytes: each member's Avro string encoding, or NULL */
} column_spec;

typedef struct {
    PyObject_HEAD
    Py_ssize_t count;
    column_spec *columns;
    Py_ssize_t key_count;
    Py_ssize_t *key_columns;
    PyObject *key_prefix; /* bytes: database and table as Avro strings */
} PlanObject;

static PyTypeObject PlanType;

/* MySQL's latin1, as code points; set once from Python (cdc.binlog.decoders). */
static uint32_t latin1_table[256];
static int latin1_ready = 0;

/* --- output buffer ------------------------------------------------------------------------ */

typedef struct {
    char *data;
    Py_ssize_t size, capacity;
} buffer;

static int reserve(buffer *out, Py_ssize_t more) {
    if (out->size + more <= out->capacity) return 0;
    Py_ssize_t capacity = out->capacity ? out->capacity : 256;
    while (capacity < out->size + more) capacity *= 2;
    char *data = PyMem_Realloc(out->data, capacity);
    if (data == NULL) { PyErr_NoMemory(); return -1; }
    out->data = data;
    out->capacity = capacity;
    return 0;
}

static int put(buffer *out, const void *bytes, Py_ssize_t size) {
    if (reserve(out, size) < 0) return -1;
    memcpy(out->data + out->size, bytes, size);
    out->size += size;
    return 0;
}

static int put_byte(buffer *out, unsigned char byte) { return put(out, &byte, 1); }

static int put_varint(buffer *out, uint64_t number) {
    unsigned char bytes[10];
    int size = 0;
    while (number > 0x7F) { bytes[size++] = (unsigned char)((number & 0x7F) | 0x80); number >>= 7; }
    bytes[size++] = (unsigned char)number;
    return put(out, bytes, size);
}

static int put_long(buffer *out, int64_t value) {
    return put_varint(out, ((uint64_t)value << 1) ^ (uint64_t)(value >> 63));
}

static int put_bytes(buffer *out, const void *bytes, Py_ssize_t size) {
    if (put_long(out, size) < 0) return -1;
    return put(out, bytes, size);
}

/* --- reading ------------------------------------------------------------------------------ */

/* Outcomes of encoding one value. */
#define OK 0
#define FALL_BACK 1 /* not handled here: the reference path decides */
#define FAILED -1   /* a Python exception is set (out of memory) */

static uint64_t little_endian(const unsigned char *p, int size) {
    uint64_t value = 0;
    for (int i = size - 1; i >= 0; i--) value = (value << 8) | p[i];
    return value;
}

static uint64_t big_endian(const unsigned char *p, int size) {
    uint64_t value = 0;
    for (int i = 0; i < size; i++) value = (value << 8) | p[i];
    return value;
}

static int64_t signed_big_endian(const unsigned char *p, int size) {
    uint64_t raw = big_endian(p, size);
    if (size < 8 && (raw >> (8 * size - 1)) & 1) return (int64_t)raw - ((int64_t)1 << (8 * size));
    return (int64_t)raw;
}

/* An unsigned number in 32-bit limbs, least significant first: wide enough for DECIMAL(65)'s
 * 65 digits (about 216 bits). */
#define LIMBS 8

static void limbs_multiply_add(uint32_t *limbs, uint32_t factor, uint32_t addend) {
    uint64_t carry = addend;
    for (int i = 0; i < LIMBS; i++) {
        uint64_t product = (uint64_t)limbs[i] * factor + carry;
        limbs[i] = (uint32_t)product;
        carry = product >> 32;
    }
}

/* Two's-complement big-endian bytes sized as cdc.avro.binary.decimal_bytes: enough for the
 * magnitude's bits plus one, rounded to whole bytes. */
static int put_decimal_limbs(buffer *out, const uint32_t *limbs, int negative) {
    int bits = 0;
    for (int i = LIMBS - 1; i >= 0; i--)
        if (limbs[i]) { bits = 32 * i + 32 - __builtin_clz(limbs[i]); break; }
    int size = (bits + 8) / 8;
    unsigned char bytes[4 * LIMBS + 1];
    for (int i = 0; i < size; i++) {
        int limb = i / 4, shift = 8 * (i % 4);
        unsigned char byte = limb < LIMBS ? (unsigned char)(limbs[limb] >> shift) : 0;
        bytes[size - 1 - i] = byte;
    }
    if (negative && bits) { /* invert and add one, over the whole width */
        int carry = 1;
        for (int i = size - 1; i >= 0; i--) {
            int value = (unsigned char)~bytes[i] + carry;
            bytes[i] = (unsigned char)value;
            carry = value >> 8;
        }
    }
    return put_bytes(out, bytes, size);
}

static int put_decimal(buffer *out, __int128 unscaled) {
    uint32_t limbs[LIMBS] = {0};
    unsigned __int128 magnitude = unscaled < 0 ? -(unsigned __int128)unscaled : (unsigned __int128)unscaled;
    for (int i = 0; i < 4; i++) { limbs[i] = (uint32_t)magnitude; magnitude >>= 32; }
    return put_decimal_limbs(out, limbs, unscaled < 0);
}

static const int bytes_for_digits[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
static const uint32_t powers_of_ten[10] = {1, 10, 100, 1000, 10000, 100000, 1000000,
                                           10000000, 100000000, 1000000000};

static Py_ssize_t decimal_size(long precision, long scale) {
    long integral = precision - scale;
    return bytes_for_digits[integral % 9] + 4 * (integral / 9 + scale / 9)
           + bytes_for_digits[scale % 9];
}

static int encode_decimal(buffer *out, const unsigned char *p, long precision, long scale) {
    long integral = precision - scale;
    int leading = bytes_for_digits[integral % 9];
    int trailing_digits = (int)(scale % 9), trailing = bytes_for_digits[trailing_digits];
    long words = integral / 9 + scale / 9;
    Py_ssize_t size = decimal_size(precision, scale);
    unsigned char raw[64];
    if (size > (Py_ssize_t)sizeof(raw)) return FALL_BACK;
    memcpy(raw, p, size);
    int negative = !(raw[0] & 0x80);
    raw[0] ^= 0x80;
    if (negative) for (Py_ssize_t i = 0; i < size; i++) raw[i] ^= 0xFF;
    uint32_t limbs[LIMBS] = {0};
    Py_ssize_t at = 0;
    if (leading) {
        uint64_t group = big_endian(raw, leading);
        if (group >= powers_of_ten[integral % 9]) return FALL_BACK;
        limbs[0] = (uint32_t)group;
        at = leading;
    }
    for (long w = 0; w < words; w++, at += 4) {
        uint64_t group = big_endian(raw + at, 4);
        if (group > 999999999) return FALL_BACK;
        limbs_multiply_add(limbs, 1000000000, (uint32_t)group);
    }
    if (trailing) {
        uint64_t group = big_endian(raw + at, trailing);
        if (group >= powers_of_ten[trailing_digits]) return FALL_BACK;
        limbs_multiply_add(limbs, powers_of_ten[trailing_digits], (uint32_t)group);
    }
    return put_decimal_limbs(out, limbs, negative) < 0 ? FAILED : OK;
}

static int days_in_month(long year, long month) {
    static const int days[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) return 29;
    return days[month];
}

static int real_date(long year, long month, long day) {
    return year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1
           && day <= days_in_month(year, month);
}

static int put_date_text(buffer *out, long year, long month, long day, int with_time,
                         long hour, long minute, long second, long micro) {
    char text[32];
    int size;
    if (!with_time) size = snprintf(text, sizeof(text), "%04ld-%02ld-%02ld", year, month, day);
    else if (micro)
        size = snprintf(text, sizeof(text), "%04ld-%02ld-%02ld %02ld:%02ld:%02ld.%06ld",
                        year, month, day, hour, minute, second, micro);
    else
        size = snprintf(text, sizeof(text), "%04ld-%02ld-%02ld %02ld:%02ld:%02ld",
                        year, month, day, hour, minute, second);
    return put_bytes(out, text, size) < 0 ? FAILED : OK;
}

static int fraction_size(long fsp) { return (int)((fsp + 1) / 2); }

static int64_t signed_fraction_us(const unsigned char *p, long fsp) {
    int size = fraction_size(fsp);
    if (size == 0) return 0;
    static const int64_t scale[3] = {10000, 100, 1};
    return signed_big_endian(p, size) * scale[size - 1];
}

/* Strict UTF-8, as Python's decoder: no overlong forms, no surrogates, nothing past U+10FFFF. */
static int valid_utf8(const unsigned char *p, Py_ssize_t size) {
    Py_ssize_t i = 0;
    while (i < size) {
        unsigned char c = p[i];
        if (c < 0x80) { i++; continue; }
        int more;
        unsigned char low = 0x80, high = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) more = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            more = 2;
            if (c == 0xE0) low = 0xA0;
            if (c == 0xED) high = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            more = 3;
            if (c == 0xF0) low = 0x90;
            if (c == 0xF4) high = 0x8F;
        } else return 0;
        if (i + more >= size) return 0; /* cut short */
        if (p[i + 1] < low || p[i + 1] > high) return 0;
        for (int k = 2; k <= more; k++) if (p[i + k] < 0x80 || p[i + k] > 0xBF) return 0;
        i += more + 1;
    }
    return 1;
}

static int put_latin1(buffer *out, const unsigned char *p, Py_ssize_t size) {
    Py_ssize_t encoded = 0;
    for (Py_ssize_t i = 0; i < size; i++) {
        uint32_t code = latin1_table[p[i]];
        encoded += code < 0x80 ? 1 : code < 0x800 ? 2 : 3;
    }
    if (put_long(out, encoded) < 0 || reserve(out, encoded) < 0) return FAILED;
    unsigned char *o = (unsigned char *)out->data + out->size;
    for (Py_ssize_t i = 0; i < size; i++) {
        uint32_t code = latin1_table[p[i]];
        if (code < 0x80) *o++ = (unsigned char)code;
        else if (code < 0x800) { *o++ = 0xC0 | (code >> 6); *o++ = 0x80 | (code & 0x3F); }
        else {
            *o++ = 0xE0 | (code >> 12);
            *o++ = 0x80 | ((code >> 6) & 0x3F);
            *o++ = 0x80 | (code & 0x3F);
        }
    }
    out->size += encoded;
    return OK;
}

/* One non-NULL value at *at; advances *at. */
static int encode_value(buffer *out, const column_spec *c, const unsigned char *body,
                        Py_ssize_t end, Py_ssize_t *at) {
    const unsigned char *p = body + *at;
    Py_ssize_t left = end - *at;
#define NEED(n) do { if ((Py_ssize_t)(n) > left) return FALL_BACK; *at += (n); } while (0)
    switch (c->kind) {
    case K_INT: {
        int size = (int)c->p1;
        NEED(size);
        uint64_t raw = little_endian(p, size);
        int64_t value;
        if (c->p2 || size == 8) value = (int64_t)raw;
        else value = (raw >> (8 * size - 1)) & 1 ? (int64_t)raw - ((int64_t)1 << (8 * size)) : (int64_t)raw;
        return put_long(out, value) < 0 ? FAILED : OK;
    }
    case K_UINT64: {
        NEED(8);
        return put_decimal(out, (__int128)little_endian(p, 8)) < 0 ? FAILED : OK;
    }
    case K_FLOAT: {
        NEED(4);
        if (((p[3] & 0x7F) == 0x7F) && (p[2] & 0x80)) return FALL_BACK; /* inf or nan */
        return put(out, p, 4) < 0 ? FAILED : OK;
    }
    case K_DOUBLE: {
        NEED(8);
        if (((p[7] & 0x7F) == 0x7F) && ((p[6] & 0xF0) == 0xF0)) return FALL_BACK;
        return put(out, p, 8) < 0 ? FAILED : OK;
    }
    case K_DECIMAL: {
        Py_ssize_t size = decimal_size(c->p1, c->p2);
        NEED(size);
        return encode_decimal(out, p, c->p1, c->p2);
    }
    case K_YEAR: {
        NEED(1);
        return put_long(out, p[0] ? p[0] + 1900 : 0) < 0 ? FAILED : OK;
    }
    case K_BIT: {
        int size = (int)((c->p1 + 7) / 8);
        NEED(size);
        int spare = size * 8 - (int)c->p1;
        if (spare && (p[0] >> (8 - spare))) return FALL_BACK;
        return put_bytes(out, p, size) < 0 ? FAILED : OK;
    }
    case K_DATE: {
        NEED(3);
        uint64_t number = little_endian(p, 3);
        long year = (long)(number >> 9), month = (long)((number >> 5) & 0xF), day = (long)(number & 0x1F);
        if (!real_date(year, month, day)) return FALL_BACK;
        return put_date_text(out, year, month, day, 0, 0, 0, 0, 0);
    }
    case K_DATETIME2: {
        NEED(5 + fraction_size(c->p1));
        int64_t integer = (int64_t)big_endian(p, 5) - (int64_t)0x8000000000LL;
        int64_t micro = signed_fraction_us(p + 5, c->p1);
        if (integer < 0 || micro < 0 || micro > 999999) return FALL_BACK;
        int64_t ymd = integer >> 17, hms = integer & 0x1FFFF, year_month = ymd >> 5;
        long year = (long)(year_month / 13), month = (long)(year_month % 13), day = (long)(ymd & 0x1F);
        long hour = (long)(hms >> 12), minute = (long)((hms >> 6) & 0x3F), second = (long)(hms & 0x3F);
        if (!real_date(year, month, day) || hour > 23 || minute > 59 || second > 59) return FALL_BACK;
        return put_date_text(out, year, month, day, 1, hour, minute, second, (long)micro);
    }
    case K_TIMESTAMP2: {
        NEED(4 + fraction_size(c->p1));
        int64_t seconds = (int64_t)big_endian(p, 4);
        int64_t micro = signed_fraction_us(p + 4, c->p1);
        if (seconds == 0 || micro < 0 || micro > 999999) return FALL_BACK;
        return put_long(out, seconds * 1000000 + micro) < 0 ? FAILED : OK;
    }
    case K_TIME2: {
        int size = fraction_size(c->p1);
        NEED(3 + size);
        int64_t packed;
        if (size == 3) packed = (int64_t)big_endian(p, 6) - (int64_t)0x800000000000LL;
        else {
            int64_t integer = (int64_t)big_endian(p, 3) - 0x800000;
            int64_t fraction = (int64_t)big_endian(p + 3, size);
            if (integer < 0 && fraction) { integer += 1; fraction -= (int64_t)1 << (8 * size); }
            static const int64_t scale[3] = {1, 10000, 100};
            packed = integer * ((int64_t)1 << 24) + fraction * scale[size];
        }
        int negative = packed < 0;
        int64_t magnitude = negative ? -packed : packed;
        int64_t hms = magnitude >> 24, micro = magnitude & 0xFFFFFF;
        int64_t hours = (hms >> 12) & 0x3FF, minutes = (hms >> 6) & 0x3F, seconds = hms & 0x3F;
        if (minutes > 59 || seconds > 59 || micro > 999999 || hours > 838) return FALL_BACK;
        int64_t total = ((hours * 60 + minutes) * 60 + seconds) * 1000000 + micro;
        return put_long(out, negative ? -total : total) < 0 ? FAILED : OK;
    }
    case K_STRING: {
        int prefix = (int)c->p1;
        NEED(prefix);
        uint64_t size = little_endian(p, prefix);
        if ((Py_ssize_t)size > left - prefix || (Py_ssize_t)size < 0) return FALL_BACK;
        *at += (Py_ssize_t)size;
        const unsigned char *data = p + prefix;
        switch (c->p2) {
        case T_UTF8:
            if (!valid_utf8(data, (Py_ssize_t)size)) return FALL_BACK;
            break;
        case T_ASCII:
            for (uint64_t i = 0; i < size; i++) if (data[i] >= 0x80) return FALL_BACK;
            break;
        case T_LATIN1:
            if (!latin1_ready) return FALL_BACK;
            return put_latin1(out, data, (Py_ssize_t)size);
        default:
            if (c->p3 > 0) { /* BINARY(n): the binlog leaves out the trailing NUL bytes */
                if ((long)size > c->p3) return FALL_BACK;
                if (put_long(out, c->p3) < 0 || put(out, data, (Py_ssize_t)size) < 0) return FAILED;
                Py_ssize_t pad = c->p3 - (Py_ssize_t)size;
                if (reserve(out, pad) < 0) return FAILED;
                memset(out->data + out->size, 0, pad);
                out->size += pad;
                return OK;
            }
        }
        return put_bytes(out, data, (Py_ssize_t)size) < 0 ? FAILED : OK;
    }
    case K_ENUM: {
        int size = (int)c->p1;
        NEED(size);
        uint64_t index = little_endian(p, size);
        if (index >= (uint64_t)PyTuple_GET_SIZE(c->members)) return FALL_BACK;
        PyObject *member = PyTuple_GET_ITEM(c->members, (Py_ssize_t)index);
        return put(out, PyBytes_AS_STRING(member), PyBytes_GET_SIZE(member)) < 0 ? FAILED : OK;
    }
    case K_SET: {
        int size = (int)c->p1;
        NEED(size);
        uint64_t mask = little_endian(p, size);
        Py_ssize_t members = PyTuple_GET_SIZE(c->members);
        if (members < 64 && (mask >> members)) return FALL_BACK;
        int count = 0;
        for (Py_ssize_t i = 0; i < members && i < 64; i++) count += (int)((mask >> i) & 1);
        if (count) {
            if (put_long(out, count) < 0) return FAILED;
            for (Py_ssize_t i = 0; i < members && i < 64; i++) {
                if (!((mask >> i) & 1)) continue;
                PyObject *member = PyTuple_GET_ITEM(c->members, i);
                if (put(out, PyBytes_AS_STRING(member), PyBytes_GET_SIZE(member)) < 0) return FAILED;
            }
        }
        return put_byte(out, 0) < 0 ? FAILED : OK;
    }
    }
#undef NEED
    return FALL_BACK;
}

/* One row image at *at: its Avro record into out, and where each column's value (without
 * its union branch) sits in out, for the key. */
static int encode_image(const PlanObject *plan, const unsigned char *body, Py_ssize_t end,
                        Py_ssize_t *at, buffer *out, Py_ssize_t *starts, Py_ssize_t *ends) {
    Py_ssize_t null_bytes = (plan->count + 7) / 8;
    if (null_bytes > end - *at) return FALL_BACK;
    const unsigned char *nulls = body + *at;
    *at += null_bytes;
    for (Py_ssize_t i = 0; i < plan->count; i++) {
        const column_spec *c = &plan->columns[i];
        if ((nulls[i / 8] >> (i % 8)) & 1) {
            if (!c->nullable) return FALL_BACK;
            if (put_byte(out, 0) < 0) return FAILED;
            starts[i] = ends[i] = -1;
            continue;
        }
        if (put_byte(out, 2) < 0) return FAILED;
        starts[i] = out->size;
        int outcome = encode_value(out, c, body, end, at);
        if (outcome != OK) return outcome;
        ends[i] = out->size;
    }
    return OK;
}

static PyObject *key_of(const PlanObject *plan, const buffer *image, const Py_ssize_t *starts,
                        const Py_ssize_t *ends, int *outcome) {
    *outcome = OK;
    if (plan->key_count == 0) Py_RETURN_NONE;
    Py_ssize_t size = PyBytes_GET_SIZE(plan->key_prefix);
    for (Py_ssize_t k = 0; k < plan->key_count; k++) {
        Py_ssize_t i = plan->key_columns[k];
        if (starts[i] < 0) { *outcome = FALL_BACK; return NULL; } /* a NULL key column */
        size += ends[i] - starts[i];
    }
    PyObject *key = PyBytes_FromStringAndSize(NULL, size);
    if (key == NULL) { *outcome = FAILED; return NULL; }
    char *o = PyBytes_AS_STRING(key);
    memcpy(o, PyBytes_AS_STRING(plan->key_prefix), PyBytes_GET_SIZE(plan->key_prefix));
    o += PyBytes_GET_SIZE(plan->key_prefix);
    for (Py_ssize_t k = 0; k < plan->key_count; k++) {
        Py_ssize_t i = plan->key_columns[k];
        memcpy(o, image->data + starts[i], ends[i] - starts[i]);
        o += ends[i] - starts[i];
    }
    return key;
}

/* encode_rows(plan, kind, body) -> [(before, after, key), ...] or None (use the reference).
 * kind: 0 insert, 1 update, 2 delete. body: the row images (after the present bitmaps). */
static PyObject *encode_rows(PyObject *module, PyObject *args) {
    PlanObject *plan;
    int kind;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "O!iy*", &PlanType, &plan, &kind, &view)) return NULL;
    const unsigned char *body = view.buf;
    Py_ssize_t end = view.len, at = 0;
    PyObject *result = PyList_New(0);
    Py_ssize_t *offsets = PyMem_Malloc(sizeof(Py_ssize_t) * 2 * (plan->count + 1));
    buffer images[2] = {{NULL, 0, 0}, {NULL, 0, 0}};
    int outcome = OK;
    if (result == NULL || offsets == NULL) { outcome = FAILED; if (offsets == NULL) PyErr_NoMemory(); }
    Py_ssize_t *starts = offsets, *ends = offsets ? offsets + plan->count + 1 : NULL;
    while (outcome == OK && at < end) {
        int count = kind == 1 ? 2 : 1;
        PyObject *key = NULL;
        for (int n = 0; n < count && outcome == OK; n++) {
            images[n].size = 0;
            outcome = encode_image(plan, body, end, &at, &images[n], starts, ends);
        }
        if (outcome != OK) break;
        /* the key of the row as it is after the change, or as it was before a delete */
        key = key_of(plan, &images[kind == 1 ? 1 : 0], starts, ends, &outcome);
        if (outcome != OK) break;
        PyObject *before = NULL, *after = NULL;
        if (kind == 0) { after = PyBytes_FromStringAndSize(images[0].data, images[0].size); before = Py_NewRef(Py_None); }
        else if (kind == 2) { before = PyBytes_FromStringAndSize(images[0].data, images[0].size); after = Py_NewRef(Py_None); }
        else {
            before = PyBytes_FromStringAndSize(images[0].data, images[0].size);
            after = PyBytes_FromStringAndSize(images[1].data, images[1].size);
        }
        PyObject *item = (before && after) ? PyTuple_Pack(3, before, after, key) : NULL;
        Py_XDECREF(before);
        Py_XDECREF(after);
        Py_XDECREF(key);
        if (item == NULL || PyList_Append(result, item) < 0) { Py_XDECREF(item); outcome = FAILED; break; }
        Py_DECREF(item);
    }
    PyMem_Free(images[0].data);
    PyMem_Free(images[1].data);
    PyMem_Free(offsets);
    PyBuffer_Release(&view);
    if (outcome == FAILED) { Py_XDECREF(result); return NULL; }
    if (outcome == FALL_BACK) { Py_XDECREF(result); Py_RETURN_NONE; }
    return result;
}

/* --- the plan ----------------------------------------------------------------------------- */

static void plan_dealloc(PlanObject *self) {
    if (self->columns) {
        for (Py_ssize_t i = 0; i < self->count; i++) Py_XDECREF(self->columns[i].members);
        PyMem_Free(self->columns);
    }
    PyMem_Free(self->key_columns);
    Py_XDECREF(self->key_prefix);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject PlanType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "cdc.binlog._fastrows.Plan",
    .tp_basicsize = sizeof(PlanObject),
    .tp_dealloc = (destructor)plan_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The compiled columns of one table map (see cdc.binlog.fast_rows).",
};

/* plan(columns, key_columns, key_prefix): columns is a tuple of
 * (kind, nullable, p1, p2, p3, members or None); key_columns the key's column indexes. */
static PyObject *make_plan(PyObject *module, PyObject *args) {
    PyObject *columns, *keys, *prefix;
    if (!PyArg_ParseTuple(args, "O!O!O!", &PyTuple_Type, &columns, &PyTuple_Type, &keys,
                          &PyBytes_Type, &prefix))
        return NULL;
    PlanObject *plan = PyObject_New(PlanObject, &PlanType);
    if (plan == NULL) return NULL;
    plan->count = PyTuple_GET_SIZE(columns);
    plan->key_count = PyTuple_GET_SIZE(keys);
    plan->columns = PyMem_Calloc(plan->count ? plan->count : 1, sizeof(column_spec));
    plan->key_columns = PyMem_Calloc(plan->key_count ? plan->key_count : 1, sizeof(Py_ssize_t));
    plan->key_prefix = Py_NewRef(prefix);
    if (plan->columns == NULL || plan->key_columns == NULL) {
        Py_DECREF(plan);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < plan->count; i++) {
        column_spec *c = &plan->columns[i];
        PyObject *members = NULL;
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(columns, i), "iplllO", &c->kind, &c->nullable,
                              &c->p1, &c->p2, &c->p3, &members)) {
            Py_DECREF(plan);
            return NULL;
        }
        int bad = c->kind < K_INT || c->kind > K_SET;
        if ((c->kind == K_ENUM || c->kind == K_SET)) {
            bad = bad || !PyTuple_Check(members);
            for (Py_ssize_t m = 0; !bad && m < PyTuple_GET_SIZE(members); m++)
                bad = !PyBytes_Check(PyTuple_GET_ITEM(members, m));
            if (!bad) c->members = Py_NewRef(members);
        }
        if (c->kind == K_INT) bad = bad || !(c->p1 == 1 || c->p1 == 2 || c->p1 == 3 || c->p1 == 4 || c->p1 == 8);
        if (c->kind == K_DECIMAL) bad = bad || c->p1 < 1 || c->p1 > 65 || c->p2 < 0 || c->p2 > c->p1;
        if (c->kind == K_BIT) bad = bad || c->p1 < 1 || c->p1 > 64;
        if (c->kind == K_DATETIME2 || c->kind == K_TIMESTAMP2 || c->kind == K_TIME2)
            bad = bad || c->p1 < 0 || c->p1 > 6;
        if (c->kind == K_STRING) bad = bad || c->p1 < 1 || c->p1 > 4 || c->p2 < 0 || c->p2 > 3 || c->p3 < 0;
        if (c->kind == K_ENUM) bad = bad || c->p1 < 1 || c->p1 > 2;
        if (c->kind == K_SET) bad = bad || c->p1 < 1 || c->p1 > 8;
        if (bad) {
            Py_DECREF(plan);
            PyErr_Format(PyExc_ValueError, "column %zd: not a valid column spec", i);
            return NULL;
        }
    }
    for (Py_ssize_t k = 0; k < plan->key_count; k++) {
        Py_ssize_t index = PyLong_AsSsize_t(PyTuple_GET_ITEM(keys, k));
        if (index < 0 || index >= plan->count) {
            Py_DECREF(plan);
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "key column out of range");
            return NULL;
        }
        plan->key_columns[k] = index;
    }
    return (PyObject *)plan;
}

static PyObject *set_latin1(PyObject *module, PyObject *table) {
    if (!PyTuple_Check(table) || PyTuple_GET_SIZE(table) != 256) {
        PyErr_SetString(PyExc_ValueError, "the latin1 table has 256 code points");
        return NULL;
    }
    for (int i = 0; i < 256; i++) {
        long code = PyLong_AsLong(PyTuple_GET_ITEM(table, i));
        if (code < 0 || code > 0xFFFF) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "a latin1 code point out of range");
            return NULL;
        }
        latin1_table[i] = (uint32_t)code;
    }
    latin1_ready = 1;
    Py_RETURN_NONE;
}

/* envelope(head, before, after, statement, source, binlog_position, commit_time_us, index, last)
 * -> the changelog record's bytes: head (header, operation, database, table, version), the
 * two images and the statement as ["null", ...] unions, source (GTID, position, server id,
 * binlog file), then the four numbers of cdc.avro.envelope's layout. */
static PyObject *envelope(PyObject *module, PyObject *const *args, Py_ssize_t count) {
    (void)module;
    if (count != 9) {
        PyErr_SetString(PyExc_TypeError, "envelope takes 9 arguments");
        return NULL;
    }
    if (!PyBytes_Check(args[0]) || !PyBytes_Check(args[4])) {
        PyErr_SetString(PyExc_TypeError, "head and source are bytes");
        return NULL;
    }
    for (int i = 1; i <= 2; i++)
        if (args[i] != Py_None && !PyBytes_Check(args[i])) {
            PyErr_SetString(PyExc_TypeError, "an image is bytes or None");
            return NULL;
        }
    Py_ssize_t statement_size = 0;
    const char *statement = NULL;
    if (args[3] != Py_None) {
        statement = PyUnicode_AsUTF8AndSize(args[3], &statement_size);
        if (statement == NULL) return NULL;
    }
    long long numbers[3];
    for (int i = 0; i < 3; i++) {
        numbers[i] = PyLong_AsLongLong(args[5 + i]);
        if (numbers[i] == -1 && PyErr_Occurred()) return NULL;
    }
    int last = PyObject_IsTrue(args[8]);
    if (last < 0) return NULL;
    buffer out = {NULL, 0, 0};
    int failed = put(&out, PyBytes_AS_STRING(args[0]), PyBytes_GET_SIZE(args[0])) < 0;
    for (int i = 1; i <= 2 && !failed; i++) {
        if (args[i] == Py_None) failed = put_byte(&out, 0) < 0;
        else failed = put_byte(&out, 2) < 0
                      || put_bytes(&out, PyBytes_AS_STRING(args[i]), PyBytes_GET_SIZE(args[i])) < 0;
    }
    if (!failed) {
        if (statement == NULL) failed = put_byte(&out, 0) < 0;
        else failed = put_byte(&out, 2) < 0 || put_bytes(&out, statement, statement_size) < 0;
    }
    if (!failed) failed = put(&out, PyBytes_AS_STRING(args[4]), PyBytes_GET_SIZE(args[4])) < 0;
    for (int i = 0; i < 3 && !failed; i++) failed = put_long(&out, numbers[i]) < 0;
    if (!failed) failed = put_byte(&out, last ? 1 : 0) < 0;
    PyObject *result = failed ? NULL : PyBytes_FromStringAndSize(out.data, out.size);
    PyMem_Free(out.data);
    return result;
}

/* --- reading a changelog record's envelope ---------------------------------------------- */

typedef struct {
    const unsigned char *data;
    Py_ssize_t size, at;
} source;

static int get_long(source *in, long long *value) {
    unsigned long long number = 0;
    int shift = 0;
    for (;;) {
        if (in->at >= in->size || shift > 63) return -1;
        unsigned char byte = in->data[in->at++];
        number |= (unsigned long long)(byte & 0x7F) << shift;
        if (!(byte & 0x80)) break;
        shift += 7;
    }
    *value = (long long)(number >> 1) ^ -(long long)(number & 1);
    return 0;
}

/* bytes (text = 0) or a UTF-8 str (text = 1); NULL with no exception set when the data ends
 * inside it, NULL with the decoding error set for text that is not UTF-8. */
static PyObject *get_blob(source *in, int text) {
    long long size;
    if (get_long(in, &size) < 0 || size < 0 || size > in->size - in->at) return NULL;
    const char *start = (const char *)in->data + in->at;
    in->at += (Py_ssize_t)size;
    return text ? PyUnicode_DecodeUTF8(start, (Py_ssize_t)size, "strict")
                : PyBytes_FromStringAndSize(start, (Py_ssize_t)size);
}

/* ["null", T]: None, or T; *ok = 0 on a bad branch or data that ends. */
static PyObject *get_optional(source *in, int text, int *ok) {
    long long branch;
    if (get_long(in, &branch) < 0 || branch < 0 || branch > 1) {
        *ok = 0;
        return NULL;
    }
    if (branch == 0) Py_RETURN_NONE;
    PyObject *value = get_blob(in, text);
    if (value == NULL) *ok = 0;
    return value;
}

/* envelope_fields(data, start) -> (operation index, database, table, schema version, before,
 * after, gtid, gtid position, commit time, transaction index, transaction last): the fields of
 * cdc.avro.envelope's layout after the header at start, the statement, server id, binlog file
 * and position skipped. ValueError for bytes that do not fit it exactly. */
static PyObject *envelope_fields(PyObject *module, PyObject *args) {
    (void)module;
    Py_buffer view;
    Py_ssize_t start;
    if (!PyArg_ParseTuple(args, "y*n", &view, &start)) return NULL;
    source in = {(const unsigned char *)view.buf, view.len, start};
    PyObject *result = NULL, *database = NULL, *table = NULL, *before = NULL, *after = NULL,
             *statement = NULL, *gtid = NULL, *position = NULL, *file = NULL;
    long long operation, version, server_id, binlog_position, commit_time, index;
    int ok = 1;
    if (start < 0 || get_long(&in, &operation) < 0) goto bad;
    if ((database = get_blob(&in, 1)) == NULL || (table = get_blob(&in, 1)) == NULL) goto bad;
    if (get_long(&in, &version) < 0) goto bad;
    before = get_optional(&in, 0, &ok);
    if (ok) after = get_optional(&in, 0, &ok);
    if (ok) statement = get_optional(&in, 0, &ok);
    if (!ok) goto bad;
    if ((gtid = get_blob(&in, 1)) == NULL || (position = get_blob(&in, 1)) == NULL) goto bad;
    if (get_long(&in, &server_id) < 0 || (file = get_blob(&in, 0)) == NULL) goto bad;
    if (get_long(&in, &binlog_position) < 0 || get_long(&in, &commit_time) < 0
        || get_long(&in, &index) < 0) goto bad;
    if (in.at >= in.size || in.data[in.at] > 1) goto bad;
    int last = in.data[in.at++];
    if (in.at != in.size) goto bad;
    result = Py_BuildValue("(LOOLOOOOLLO)", operation, database, table, version, before, after,
                           gtid, position, commit_time, index, last ? Py_True : Py_False);
    goto done;
bad:
    if (!PyErr_Occurred())
        PyErr_SetString(PyExc_ValueError, "the record does not fit the changelog envelope");
done:
    Py_XDECREF(database);
    Py_XDECREF(table);
    Py_XDECREF(before);
    Py_XDECREF(after);
    Py_XDECREF(statement);
    Py_XDECREF(gtid);
    Py_XDECREF(position);
    Py_XDECREF(file);
    PyBuffer_Release(&view);
    return result;
}

static PyMethodDef methods[] = {
    {"envelope", (PyCFunction)(void (*)(void))envelope, METH_FASTCALL,
     "A changelog record's bytes from its encoded parts."},
    {"plan", make_plan, METH_VARARGS, "Compile a table's column specs."},
    {"encode_rows", encode_rows, METH_VARARGS,
     "Row images of a rows event as Avro bytes, or None to use the reference path."},
    {"set_latin1", set_latin1, METH_O, "MySQL's latin1 as 256 code points."},
    {"envelope_fields", envelope_fields, METH_VARARGS,
     "A changelog record's envelope fields, its images as bytes."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_fastrows", "Binlog row images to Avro bytes.", -1, methods,
};

PyMODINIT_FUNC PyInit__fastrows(void) {
    if (PyType_Ready(&PlanType) < 0) return NULL;
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL) return NULL;
    if (PyModule_AddObjectRef(module, "Plan", (PyObject *)&PlanType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
