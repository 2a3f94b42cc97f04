/* A snapshot block's Avro records straight to PostgreSQL COPY text.
 *
 * The compiled counterpart of the fused encoder of replayer/bulk_text_postgres.py: a table
 * version's columns are compiled once into a program (an op and its parameters per column,
 * built in replayer/copy_text_compiled.py), and each block is turned into its lines without a
 * Python object per field. It writes only what it is sure of: the values the snapshot writer
 * makes, each formatted as postgres_types.copy_text_field formats its canonical value. For
 * anything else (a value out of its column's range, a zero date, NUL in text, text that is
 * not UTF-8, a JSON \u0000 escape, a varint the writer would not write, an array in more than
 * one block, NULL in a NOT NULL column, records that end early or bytes after them) it gives
 * up on the whole block and says why; the caller then encodes the block the Python way, whose
 * bytes or errors are the reference's. The unit tests hold both to the same bytes.
 *
 * Every read is bounds-checked against the block. The GIL is released while a block is
 * encoded; it is taken back only to format floats, as repr does.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

enum op {
    OP_INTEGER = 1, /* a long within [p1, p2]: TINYINT to BIGINT */
    OP_YEAR,        /* a long, 0 or 1901 to 2155 */
    OP_UNSIGNED_64, /* BIGINT UNSIGNED: decimal(20, 0) bytes */
    OP_DECIMAL,     /* two's-complement unscaled bytes: p1 = precision, p2 = scale */
    OP_FLOAT,       /* four bytes, little-endian */
    OP_DOUBLE,      /* eight bytes, little-endian */
    OP_BIT,         /* big-endian bytes: p1 = width, 1 to 64 */
    OP_DATE,        /* "YYYY-MM-DD" */
    OP_DATETIME,    /* "YYYY-MM-DD hh:mm:ss[.ffffff]": p1 = fractional digits */
    OP_TIMESTAMP,   /* microseconds since the epoch: p1 = fractional digits */
    OP_TIME,        /* signed microseconds: p1 = fractional digits */
    OP_TEXT,        /* UTF-8 text */
    OP_JSON,        /* UTF-8 text without a \u0000 escape */
    OP_ENUM,        /* table: (member's UTF-8, its field) */
    OP_SET,         /* table: (member's UTF-8, its array element as a field), in member order */
    OP_BYTEA,       /* bytes, as bytea's hex form */
    OP_LAST = OP_BYTEA,
};

/* Why a block was given up on; the caller may log it, the tests check it. */
typedef const char *reason;
static const char NO_MEMORY[] = "out of memory"; /* not a give-up: MemoryError */

typedef struct {
    const unsigned char *key;
    Py_ssize_t key_size;
    const char *field;
    Py_ssize_t field_size;
} entry;

typedef struct {
    int op;
    int nullable;
    long long p1, p2;
    entry *entries;
    Py_ssize_t entry_count;
    Py_ssize_t widest; /* the longest field an ENUM or SET value can give */
} column;

typedef struct {
    PyObject_HEAD
    Py_ssize_t count;
    column *columns;
    PyObject *tables; /* owns the bytes the entries point into */
} ProgramObject;

static PyTypeObject ProgramType;

/* --- output --------------------------------------------------------------------------------- */

/* Raw memory: it grows while the GIL is released. */
typedef struct {
    char *data;
    Py_ssize_t size, capacity;
} buffer;

static int reserve(buffer *out, Py_ssize_t more) {
    if (out->size + more <= out->capacity) return 0;
    Py_ssize_t capacity = out->capacity ? out->capacity : 4096;
    while (capacity < out->size + more) {
        if (capacity > PY_SSIZE_T_MAX / 2) return -1;
        capacity *= 2;
    }
    char *data = PyMem_RawRealloc(out->data, (size_t)capacity);
    if (data == NULL) return -1;
    out->data = data;
    out->capacity = capacity;
    return 0;
}

static char *put_unsigned(char *o, uint64_t value) {
    char digits[20];
    int size = 0;
    do {
        digits[size++] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    while (size) *o++ = digits[--size];
    return o;
}

static char *put_two(char *o, int value) {
    o[0] = (char)('0' + value / 10);
    o[1] = (char)('0' + value % 10);
    return o + 2;
}

static char *put_fixed(char *o, uint64_t value, int width) {
    for (int i = width - 1; i >= 0; i--) {
        o[i] = (char)('0' + value % 10);
        value /= 10;
    }
    return o + width;
}

/* --- reading Avro ------------------------------------------------------------------------- */

typedef struct {
    const unsigned char *data;
    Py_ssize_t at, end;
} input;

/* A long as the writer writes it: minimal, at most ten bytes, within 64 bits. A varint the
 * reference reads differently or not at all (longer, padded with zero groups) is given up on:
 * the reference decides. */
static reason read_long(input *in, int64_t *value) {
    Py_ssize_t at = in->at;
    if (at < in->end && in->data[at] < 0x80) { /* one byte: lengths, branches, small numbers */
        unsigned char byte = in->data[at];
        in->at = at + 1;
        *value = (int64_t)(byte >> 1) ^ -(int64_t)(byte & 1);
        return NULL;
    }
    uint64_t number = 0;
    for (int shift = 0;; shift += 7) { /* ends by the tenth byte: it must be 0 or 1 */
        if (at >= in->end) return "the data ends inside a number";
        unsigned char byte = in->data[at++];
        if (shift == 63 && byte > 1) return "a varint beyond 64 bits";
        number |= (uint64_t)(byte & 0x7F) << shift;
        if (!(byte & 0x80)) {
            if (byte == 0) return "a varint that is not minimal";
            break;
        }
    }
    in->at = at;
    *value = (int64_t)(number >> 1) ^ -(int64_t)(number & 1);
    return NULL;
}

/* The bytes of a string or bytes value. */
static reason read_bytes(input *in, const unsigned char **bytes, Py_ssize_t *size) {
    int64_t length;
    reason why = read_long(in, &length);
    if (why) return why;
    if (length < 0) return "a negative length";
    if (length > in->end - in->at) return "the data ends inside a value";
    *bytes = in->data + in->at;
    *size = (Py_ssize_t)length;
    in->at += (Py_ssize_t)length;
    return NULL;
}

static uint64_t big_endian(const unsigned char *p, Py_ssize_t size) {
    uint64_t value = 0;
    for (Py_ssize_t i = 0; i < size; i++) value = (value << 8) | p[i];
    return value;
}

/* --- numbers -------------------------------------------------------------------------------- */

#define LIMBS 8 /* 256 bits: DECIMAL(65)'s unscaled values need 216 and a sign */
#define MAX_DECIMAL_BYTES 32

/* The decimal digits of the magnitude of a two's-complement big-endian number of 1 to 32
 * bytes, without leading zeros ("0" for zero); returns how many. */
static int magnitude_digits(const unsigned char *p, Py_ssize_t size, int *negative, char *digits) {
    *negative = (p[0] & 0x80) != 0;
    if (size <= 8) {
        uint64_t raw = big_endian(p, size), magnitude = raw;
        if (*negative) magnitude = size == 8 ? (uint64_t)0 - raw : ((uint64_t)1 << (8 * size)) - raw;
        return (int)(put_unsigned(digits, magnitude) - digits);
    }
    uint32_t limbs[LIMBS];
    memset(limbs, *negative ? 0xFF : 0, sizeof(limbs)); /* sign-extended */
    for (Py_ssize_t i = 0; i < size; i++) {
        int limb = (int)(i / 4), shift = (int)(8 * (i % 4));
        limbs[limb] = (limbs[limb] & ~((uint32_t)0xFF << shift)) | (uint32_t)p[size - 1 - i] << shift;
    }
    if (*negative) { /* invert and add one */
        uint64_t carry = 1;
        for (int i = 0; i < LIMBS; i++) {
            uint64_t sum = (uint64_t)(uint32_t)~limbs[i] + carry;
            limbs[i] = (uint32_t)sum;
            carry = sum >> 32;
        }
    }
    uint32_t groups[10]; /* base 10**9, least significant first: 2**256 has 78 digits */
    int count = 0, top = LIMBS - 1;
    while (top >= 0 && !limbs[top]) top--;
    while (top >= 0) {
        uint64_t remainder = 0;
        for (int i = top; i >= 0; i--) {
            uint64_t current = (remainder << 32) | limbs[i];
            limbs[i] = (uint32_t)(current / 1000000000u);
            remainder = current % 1000000000u;
        }
        groups[count++] = (uint32_t)remainder;
        while (top >= 0 && !limbs[top]) top--;
    }
    if (count == 0) groups[count++] = 0;
    char *o = put_unsigned(digits, groups[count - 1]);
    for (int i = count - 2; i >= 0; i--) o = put_fixed(o, groups[i], 9);
    return (int)(o - digits);
}

/* format(Decimal, "f") of DECIMAL(p, s)'s unscaled value: exactly s digits after the point. */
static reason put_decimal(buffer *out, const column *c, const unsigned char *p, Py_ssize_t size) {
    if (size == 0 || size > MAX_DECIMAL_BYTES) return "a DECIMAL of an unusual size";
    char digits[80];
    int negative;
    int count = magnitude_digits(p, size, &negative, digits);
    if (count > c->p1) return "a DECIMAL beyond its precision";
    int scale = (int)c->p2;
    if (reserve(out, count + scale + 3) < 0) return NO_MEMORY;
    char *o = out->data + out->size;
    if (negative) *o++ = '-';
    if (scale == 0) {
        memcpy(o, digits, count);
        o += count;
    } else if (count > scale) {
        memcpy(o, digits, count - scale);
        o += count - scale;
        *o++ = '.';
        memcpy(o, digits + count - scale, scale);
        o += scale;
    } else {
        *o++ = '0';
        *o++ = '.';
        memset(o, '0', scale - count);
        o += scale - count;
        memcpy(o, digits, count);
        o += count;
    }
    out->size = o - out->data;
    return NULL;
}

/* --- dates and times ----------------------------------------------------------------------- */

static int leap(int year) { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0); }

static int days_in_month(int year, int month) {
    static const int days[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && leap(year) ? 29 : days[month];
}

/* Two ASCII digits' value, or -1. */
static int two_digits(const unsigned char *p) {
    if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9') return -1;
    return (p[0] - '0') * 10 + (p[1] - '0');
}

/* "YYYY-MM-DD" of a date datetime.date can hold (no year 0000, no zero parts). */
static int real_date_text(const unsigned char *p) {
    int high = two_digits(p), low = two_digits(p + 2);
    if (high < 0 || low < 0 || p[4] != '-' || p[7] != '-') return 0;
    int year = high * 100 + low, month = two_digits(p + 5), day = two_digits(p + 8);
    return year >= 1 && month >= 1 && month <= 12 && day >= 1
           && day <= days_in_month(year, month);
}

/* "YYYY-MM-DD hh:mm:ss[.ffffff]" as datetime.isoformat(" ") writes it: a fraction only when
 * it is not zero, and no finer than the column's digits (PostgreSQL would round it). */
static int datetime_text(const unsigned char *p, Py_ssize_t size, long long scale) {
    if (size != 19 && !(size == 26 && scale > 0)) return 0;
    if (!real_date_text(p) || p[10] != ' ' || p[13] != ':' || p[16] != ':') return 0;
    int hour = two_digits(p + 11), minute = two_digits(p + 14), second = two_digits(p + 17);
    if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return 0;
    if (size == 19) return 1;
    if (p[19] != '.') return 0;
    int nonzero = 0;
    for (int i = 0; i < 6; i++) {
        unsigned char digit = p[20 + i];
        if (digit < '0' || digit > '9' || (i >= scale && digit != '0')) return 0;
        nonzero |= digit != '0';
    }
    return nonzero;
}

/* The proleptic Gregorian date of a day since 1970-01-01 (H. Hinnant's civil_from_days). */
static void civil_from_days(int64_t days, int64_t *year, int *month, int *day) {
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t of_era = days - era * 146097;
    int64_t year_of_era = (of_era - of_era / 1460 + of_era / 36524 - of_era / 146096) / 365;
    int64_t of_year = of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t shifted = (5 * of_year + 2) / 153;
    *day = (int)(of_year - (153 * shifted + 2) / 5 + 1);
    *month = (int)(shifted < 10 ? shifted + 3 : shifted - 9);
    *year = year_of_era + era * 400 + (*month <= 2);
}

static const int64_t fraction_steps[7] = {1000000, 100000, 10000, 1000, 100, 10, 1};
#define TIME_LIMIT_US ((int64_t)((838 * 3600 + 59 * 60 + 59)) * 1000000 + 999999)

/* TIMESTAMP: datetime.isoformat(" ") of the UTC instant, "+00:00" included. */
static reason put_timestamp(buffer *out, const column *c, int64_t micros) {
    if (micros <= 0) return "the zero TIMESTAMP or one before the epoch";
    if (micros % fraction_steps[c->p1]) return "a fraction finer than the column's digits";
    int64_t seconds = micros / 1000000, fraction = micros % 1000000;
    int64_t year;
    int month, day;
    civil_from_days(seconds / 86400, &year, &month, &day);
    if (year > 9999) return "a TIMESTAMP beyond datetime's years";
    int of_day = (int)(seconds % 86400);
    if (reserve(out, 32) < 0) return NO_MEMORY;
    char *o = out->data + out->size;
    o = put_fixed(o, (uint64_t)year, 4);
    *o++ = '-';
    o = put_two(o, month);
    *o++ = '-';
    o = put_two(o, day);
    *o++ = ' ';
    o = put_two(o, of_day / 3600);
    *o++ = ':';
    o = put_two(o, of_day / 60 % 60);
    *o++ = ':';
    o = put_two(o, of_day % 60);
    if (fraction) {
        *o++ = '.';
        o = put_fixed(o, (uint64_t)fraction, 6);
    }
    memcpy(o, "+00:00", 6);
    out->size = o + 6 - out->data;
    return NULL;
}

/* TIME: MySQL's literal (cdc.values.time_text), hours of two or three digits. */
static reason put_time(buffer *out, const column *c, int64_t micros) {
    if (micros < -TIME_LIMIT_US || micros > TIME_LIMIT_US) return "a TIME out of range";
    uint64_t magnitude = micros < 0 ? (uint64_t)-micros : (uint64_t)micros;
    if (magnitude % (uint64_t)fraction_steps[c->p1]) return "a fraction finer than the column's digits";
    uint64_t seconds = magnitude / 1000000, fraction = magnitude % 1000000;
    if (reserve(out, 24) < 0) return NO_MEMORY;
    char *o = out->data + out->size;
    if (micros < 0) *o++ = '-';
    uint64_t hours = seconds / 3600;
    o = hours < 100 ? put_two(o, (int)hours) : put_unsigned(o, hours);
    *o++ = ':';
    o = put_two(o, (int)(seconds / 60 % 60));
    *o++ = ':';
    o = put_two(o, (int)(seconds % 60));
    if (fraction) {
        *o++ = '.';
        o = put_fixed(o, fraction, 6);
    }
    out->size = o - out->data;
    return NULL;
}

/* --- text ------------------------------------------------------------------------------------ */

/* What each byte of text needs: copied, escaped (COPY's backslash, tab, newline, CR), refused
 * (NUL, which PostgreSQL text cannot hold), or checked as the start of a UTF-8 sequence. */
enum { PLAIN = 0, ESCAPED, REFUSED, MULTIBYTE };
static unsigned char byte_kinds[256];
static char escapes[256];

static void init_tables(void) {
    for (int b = 0; b < 256; b++) byte_kinds[b] = b < 0x80 ? PLAIN : MULTIBYTE;
    byte_kinds['\\'] = byte_kinds['\t'] = byte_kinds['\n'] = byte_kinds['\r'] = ESCAPED;
    byte_kinds[0] = REFUSED;
    escapes['\\'] = '\\';
    escapes['\t'] = 't';
    escapes['\n'] = 'n';
    escapes['\r'] = 'r';
}

/* The size of the UTF-8 sequence at p (of at most `left` bytes) as Python's strict decoder
 * takes it (no overlong forms, no surrogates, nothing past U+10FFFF), or 0. */
static int utf8_sequence(const unsigned char *p, Py_ssize_t left) {
    unsigned char lead = p[0], low = 0x80, high = 0xBF;
    int more;
    if (lead >= 0xC2 && lead <= 0xDF) more = 1;
    else if (lead >= 0xE0 && lead <= 0xEF) {
        more = 2;
        if (lead == 0xE0) low = 0xA0;
        if (lead == 0xED) high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        more = 3;
        if (lead == 0xF0) low = 0x90;
        if (lead == 0xF4) high = 0x8F;
    } else return 0;
    if (more >= left) return 0;
    if (p[1] < low || p[1] > high) return 0;
    for (int k = 2; k <= more; k++)
        if (p[k] < 0x80 || p[k] > 0xBF) return 0;
    return more + 1;
}

/* copy_escape of UTF-8 text; JSON also refuses every \u0000 (even one after an escaped
 * backslash, which the reference takes: the Python path sorts that out). */
static reason put_text(buffer *out, const unsigned char *p, Py_ssize_t size, int json) {
    if (reserve(out, 2 * size) < 0) return NO_MEMORY;
    char *o = out->data + out->size;
    Py_ssize_t i = 0;
    while (i < size) {
        unsigned char byte = p[i];
        switch (byte_kinds[byte]) {
        case PLAIN:
            *o++ = (char)byte;
            i++;
            break;
        case ESCAPED:
            if (json && byte == '\\' && size - i >= 6 && memcmp(p + i + 1, "u0000", 5) == 0)
                return "JSON with a \\u0000";
            *o++ = '\\';
            *o++ = escapes[byte];
            i++;
            break;
        case REFUSED:
            return "text with a NUL character";
        default: {
            int length = utf8_sequence(p + i, size - i);
            if (!length) return "text that is not UTF-8";
            memcpy(o, p + i, length);
            o += length;
            i += length;
        }
        }
    }
    out->size = o - out->data;
    return NULL;
}

static const entry *find(const column *c, const unsigned char *key, Py_ssize_t size, Py_ssize_t *index) {
    for (Py_ssize_t i = 0; i < c->entry_count; i++) {
        const entry *e = &c->entries[i];
        if (e->key_size == size && memcmp(e->key, key, size) == 0) {
            *index = i;
            return e;
        }
    }
    return NULL;
}

/* A SET: an array of members in one block, as the writer writes it, to "{...}" with its
 * members in order; a member twice, or one that is not the column's, is given up on. */
static reason put_set(buffer *out, const column *c, input *in) {
    int64_t count, end;
    reason why = read_long(in, &count);
    if (why) return why;
    uint64_t members = 0;
    if (count) {
        if (count < 0 || count > 64) return "an array in more than one block";
        for (int64_t k = 0; k < count; k++) {
            const unsigned char *bytes;
            Py_ssize_t size, index;
            if ((why = read_bytes(in, &bytes, &size))) return why;
            if (!find(c, bytes, size, &index)) return "a SET member the column does not have";
            if (members >> index & 1) return "a SET member twice";
            members |= (uint64_t)1 << index;
        }
        if ((why = read_long(in, &end))) return why;
        if (end) return "an array in more than one block";
    }
    if (reserve(out, c->widest) < 0) return NO_MEMORY;
    char *o = out->data + out->size;
    *o++ = '{';
    int first = 1;
    for (Py_ssize_t i = 0; i < c->entry_count; i++) {
        if (!(members >> i & 1)) continue;
        if (!first) *o++ = ',';
        first = 0;
        memcpy(o, c->entries[i].field, c->entries[i].field_size);
        o += c->entries[i].field_size;
    }
    *o++ = '}';
    out->size = o - out->data;
    return NULL;
}

/* --- one field ------------------------------------------------------------------------------ */

typedef struct {
    PyThreadState *released; /* the GIL's state while released, or NULL when held */
} context;

/* repr of a float, taken with the GIL (repr's own function, with repr's flags). */
static int put_repr(buffer *out, context *ctx, double value) {
    if (ctx->released) PyEval_RestoreThread(ctx->released);
    char *text = PyOS_double_to_string(value, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    int failed = text == NULL;
    if (text) {
        Py_ssize_t size = (Py_ssize_t)strlen(text);
        failed = reserve(out, size) < 0;
        if (!failed) {
            memcpy(out->data + out->size, text, size);
            out->size += size;
        }
        PyMem_Free(text);
    } else PyErr_Clear(); /* out of memory: raised once the block is left */
    if (ctx->released) ctx->released = PyEval_SaveThread();
    return failed ? -1 : 0;
}

#define NEED(n) do { if (reserve(out, (n)) < 0) return NO_MEMORY; } while (0)

static reason put_field(buffer *out, const column *c, input *in, context *ctx) {
    reason why;
    int64_t number;
    const unsigned char *bytes;
    Py_ssize_t size;
    switch (c->op) {
    case OP_INTEGER:
    case OP_YEAR:
        if ((why = read_long(in, &number))) return why;
        if (c->op == OP_YEAR ? number != 0 && (number < 1901 || number > 2155)
                             : number < c->p1 || number > c->p2)
            return "an integer out of its column's range";
        NEED(21);
        if (number < 0) {
            out->data[out->size++] = '-';
            out->size = put_unsigned(out->data + out->size, (uint64_t)0 - (uint64_t)number) - out->data;
        } else out->size = put_unsigned(out->data + out->size, (uint64_t)number) - out->data;
        return NULL;
    case OP_UNSIGNED_64:
        if ((why = read_bytes(in, &bytes, &size))) return why;
        if (size == 0 || size > 9 || bytes[0] & 0x80 || (size == 9 && bytes[0]))
            return "a BIGINT UNSIGNED of an unusual size or out of range";
        NEED(20);
        out->size = put_unsigned(out->data + out->size,
                                 big_endian(bytes + (size == 9), size - (size == 9))) - out->data;
        return NULL;
    case OP_DECIMAL:
        if ((why = read_bytes(in, &bytes, &size))) return why;
        return put_decimal(out, c, bytes, size);
    case OP_FLOAT:
    case OP_DOUBLE: {
        Py_ssize_t width = c->op == OP_FLOAT ? 4 : 8;
        if (in->end - in->at < width) return "the data ends inside a number";
        const unsigned char *p = in->data + in->at;
        in->at += width;
        double value;
        if (c->op == OP_FLOAT) {
            uint32_t raw = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
            float single;
            memcpy(&single, &raw, 4);
            if (isnan(single)) return "a FLOAT NaN"; /* the reference refuses it */
            value = single;
        } else {
            uint64_t raw = 0;
            for (int i = 7; i >= 0; i--) raw = raw << 8 | p[i];
            memcpy(&value, &raw, 8);
        }
        return put_repr(out, ctx, value) < 0 ? NO_MEMORY : NULL;
    }
    case OP_BIT: {
        if ((why = read_bytes(in, &bytes, &size))) return why;
        if (size > 8) return "a BIT of an unusual size";
        uint64_t value = big_endian(bytes, size);
        int width = (int)c->p1;
        if (width < 64 && value >> width) return "a BIT wider than its column";
        NEED(width);
        char *o = out->data + out->size;
        for (int i = width - 1; i >= 0; i--) *o++ = (char)('0' + (value >> i & 1));
        out->size += width;
        return NULL;
    }
    case OP_DATE:
    case OP_DATETIME:
        if ((why = read_bytes(in, &bytes, &size))) return why;
        if (c->op == OP_DATE ? size != 10 || !real_date_text(bytes) : !datetime_text(bytes, size, c->p1))
            return "a date of an unusual shape or a zero date";
        NEED(size);
        memcpy(out->data + out->size, bytes, size);
        out->size += size;
        return NULL;
    case OP_TIMESTAMP:
    case OP_TIME:
        if ((why = read_long(in, &number))) return why;
        return c->op == OP_TIMESTAMP ? put_timestamp(out, c, number) : put_time(out, c, number);
    case OP_TEXT:
    case OP_JSON:
        if ((why = read_bytes(in, &bytes, &size))) return why;
        return put_text(out, bytes, size, c->op == OP_JSON);
    case OP_ENUM: {
        Py_ssize_t index;
        if ((why = read_bytes(in, &bytes, &size))) return why;
        const entry *e = find(c, bytes, size, &index);
        if (!e) return "an ENUM value the column does not have";
        NEED(e->field_size);
        memcpy(out->data + out->size, e->field, e->field_size);
        out->size += e->field_size;
        return NULL;
    }
    case OP_SET:
        return put_set(out, c, in);
    case OP_BYTEA: {
        static const char hex[] = "0123456789abcdef";
        if ((why = read_bytes(in, &bytes, &size))) return why;
        NEED(3 + 2 * size);
        char *o = out->data + out->size;
        memcpy(o, "\\\\x", 3);
        o += 3;
        for (Py_ssize_t i = 0; i < size; i++) {
            *o++ = hex[bytes[i] >> 4];
            *o++ = hex[bytes[i] & 0xF];
        }
        out->size = o - out->data;
        return NULL;
    }
    }
    return "an unknown op";
}

/* The block's lines into out; NULL, or why it was given up on (at *column of *record). */
static reason encode_block(const ProgramObject *program, Py_ssize_t records, input *in,
                           buffer *out, context *ctx, Py_ssize_t *record, Py_ssize_t *column_at) {
    if (records < 1) return "a block without records";
    if (program->count < 1) return "a table without columns";
    for (*record = 0; *record < records; (*record)++) {
        for (Py_ssize_t i = 0; i < program->count; i++) {
            const column *c = &program->columns[i];
            *column_at = i;
            if (in->at >= in->end) return "the data ends before a field";
            unsigned char branch = in->data[in->at++];
            if (branch == 2) {
                reason why = put_field(out, c, in, ctx);
                if (why) return why;
            } else if (branch == 0 && c->nullable) {
                if (reserve(out, 2) < 0) return NO_MEMORY;
                out->data[out->size++] = '\\';
                out->data[out->size++] = 'N';
            } else return branch == 0 ? "NULL in a NOT NULL column" : "an unusual union branch";
            if (reserve(out, 1) < 0) return NO_MEMORY;
            out->data[out->size++] = i + 1 < program->count ? '\t' : '\n';
        }
    }
    *column_at = -1;
    if (in->at != in->end) return "bytes after the records";
    return NULL;
}

/* Blocks smaller than this are encoded with the GIL held: releasing it costs more. */
#define RELEASE_FROM 16384

/* encode(program, count, data) -> the block's COPY text as bytes, or a str saying why it was
 * given up on (the caller then encodes the block the Python way). */
static PyObject *encode(PyObject *module, PyObject *args) {
    (void)module;
    ProgramObject *program;
    Py_ssize_t count;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "O!ny*", &ProgramType, &program, &count, &view)) return NULL;
    input in = {(const unsigned char *)view.buf, 0, view.len};
    buffer out = {NULL, 0, 0};
    context ctx = {NULL};
    Py_ssize_t record = 0, column_at = -1;
    reason why;
    if (reserve(&out, view.len + view.len / 2 + 64) < 0) why = NO_MEMORY;
    else if (view.len >= RELEASE_FROM) {
        ctx.released = PyEval_SaveThread();
        why = encode_block(program, count, &in, &out, &ctx, &record, &column_at);
        PyEval_RestoreThread(ctx.released);
    } else why = encode_block(program, count, &in, &out, &ctx, &record, &column_at);
    PyBuffer_Release(&view);
    PyObject *result;
    if (why == NO_MEMORY) result = PyErr_NoMemory();
    else if (why == NULL) result = PyBytes_FromStringAndSize(out.data, out.size);
    else if (column_at < 0) result = PyUnicode_FromString(why);
    else result = PyUnicode_FromFormat("record %zd, column %zd: %s", record + 1, column_at + 1, why);
    PyMem_RawFree(out.data);
    return result;
}

/* --- the program ----------------------------------------------------------------------------- */

static void program_dealloc(ProgramObject *self) {
    if (self->columns) {
        for (Py_ssize_t i = 0; i < self->count; i++) PyMem_Free(self->columns[i].entries);
        PyMem_Free(self->columns);
    }
    Py_XDECREF(self->tables);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject ProgramType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "replayer._copytext.Program",
    .tp_basicsize = sizeof(ProgramObject),
    .tp_dealloc = (destructor)program_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The compiled columns of one table version (see replayer.copy_text_compiled).",
};

/* The (key, field) pairs of an ENUM or SET into c; the longest value's field in c->widest. */
static int read_table(column *c, PyObject *table) {
    if (!PyTuple_Check(table)) return -1;
    Py_ssize_t count = PyTuple_GET_SIZE(table);
    if (c->op == OP_SET && count > 64) return -1;
    c->entries = PyMem_Calloc(count ? count : 1, sizeof(entry));
    if (c->entries == NULL) return -1;
    c->entry_count = count;
    Py_ssize_t widest = 0, all = 2 + (count ? count - 1 : 0); /* braces and commas */
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *pair = PyTuple_GET_ITEM(table, i);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2
            || !PyBytes_Check(PyTuple_GET_ITEM(pair, 0)) || !PyBytes_Check(PyTuple_GET_ITEM(pair, 1)))
            return -1;
        entry *e = &c->entries[i];
        e->key = (const unsigned char *)PyBytes_AS_STRING(PyTuple_GET_ITEM(pair, 0));
        e->key_size = PyBytes_GET_SIZE(PyTuple_GET_ITEM(pair, 0));
        e->field = PyBytes_AS_STRING(PyTuple_GET_ITEM(pair, 1));
        e->field_size = PyBytes_GET_SIZE(PyTuple_GET_ITEM(pair, 1));
        if (e->field_size > widest) widest = e->field_size;
        all += e->field_size;
    }
    c->widest = c->op == OP_SET ? all : widest;
    return 0;
}

/* program(columns): columns is a tuple of (op, nullable, p1, p2, table or None). */
static PyObject *make_program(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *columns;
    if (!PyArg_ParseTuple(args, "O!", &PyTuple_Type, &columns)) return NULL;
    ProgramObject *program = PyObject_New(ProgramObject, &ProgramType);
    if (program == NULL) return NULL;
    program->count = PyTuple_GET_SIZE(columns);
    program->tables = Py_NewRef(columns);
    program->columns = PyMem_Calloc(program->count ? program->count : 1, sizeof(column));
    if (program->columns == NULL) {
        program->count = 0;
        Py_DECREF(program);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < program->count; i++) {
        column *c = &program->columns[i];
        PyObject *table = NULL;
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(columns, i), "ipLLO", &c->op, &c->nullable,
                              &c->p1, &c->p2, &table)) {
            Py_DECREF(program);
            return NULL;
        }
        int bad = c->op < OP_INTEGER || c->op > OP_LAST;
        if (c->op == OP_ENUM || c->op == OP_SET) bad = bad || read_table(c, table) < 0;
        else bad = bad || table != Py_None;
        if (c->op == OP_INTEGER) bad = bad || c->p1 > c->p2;
        if (c->op == OP_DECIMAL) bad = bad || c->p1 < 1 || c->p1 > 77 || c->p2 < 0 || c->p2 > 77;
        if (c->op == OP_BIT) bad = bad || c->p1 < 1 || c->p1 > 64;
        if (c->op == OP_DATETIME || c->op == OP_TIMESTAMP || c->op == OP_TIME)
            bad = bad || c->p1 < 0 || c->p1 > 6;
        if (bad) {
            Py_DECREF(program);
            if (!PyErr_Occurred()) PyErr_Format(PyExc_ValueError, "column %zd: not a valid op", i + 1);
            return NULL;
        }
    }
    return (PyObject *)program;
}

static PyMethodDef methods[] = {
    {"program", make_program, METH_VARARGS, "Compile a table version's column ops."},
    {"encode", encode, METH_VARARGS,
     "A block's COPY text as bytes, or a str saying why it was given up on."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_copytext", "Snapshot blocks to PostgreSQL COPY text.", -1, methods,
};

PyMODINIT_FUNC PyInit__copytext(void) {
    init_tables();
    if (PyType_Ready(&ProgramType) < 0) return NULL;
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL) return NULL;
    if (PyModule_AddObjectRef(module, "Program", (PyObject *)&ProgramType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
