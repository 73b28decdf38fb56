// sled_test exercises every function of sled.h, its error paths included,
// several threads on one database handle, and transactions on several
// threads. Built with
// -fsanitize=address,undefined by capi/ci.sh. Exit status 0 = all passed.
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sled.h"

static int failures;
static char tmpdir[] = "/tmp/sled-capi-test-XXXXXX";

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                      \
            failures++;                                                    \
        }                                                                  \
    } while (0)

// CHECK_RC checks a status and frees the message of an error.
#define CHECK_RC(call, want)                                               \
    do {                                                                   \
        char *err_ = NULL;                                                 \
        int rc_ = (call);                                                  \
        (void)err_;                                                        \
        if (rc_ != (want)) {                                               \
            fprintf(stderr, "%s:%d: %s = %d (%s), want %d (%s)\n",         \
                    __FILE__, __LINE__, #call, rc_, sled_strerror(rc_),   \
                    (want), sled_strerror(want));                          \
            failures++;                                                    \
        }                                                                  \
    } while (0)

#define B(s) ((const uint8_t *)(s)), (sizeof(s) - 1)

// ok runs a call with an err out-parameter, requires SLED_OK and no message.
#define OK(call)                                                           \
    do {                                                                   \
        char *err = (char *)1;                                             \
        int rc_ = (call);                                                  \
        if (rc_ != SLED_OK || err != NULL) {                               \
            fprintf(stderr, "%s:%d: %s = %d: %s\n", __FILE__, __LINE__,    \
                    #call, rc_, rc_ == SLED_OK ? "err not cleared" : (err ? err : "(no message)")); \
            failures++;                                                    \
        }                                                                  \
        if (rc_ != SLED_OK && err != (char *)1) sled_free(err);            \
    } while (0)

// FAILS runs a call with an err out-parameter, requires status want and a
// non-empty message (for errors).
#define FAILS(call, want)                                                  \
    do {                                                                   \
        char *err = NULL;                                                  \
        int rc_ = (call);                                                  \
        if (rc_ != (want)) {                                               \
            fprintf(stderr, "%s:%d: %s = %d (%s: %s), want %d (%s)\n",     \
                    __FILE__, __LINE__, #call, rc_, sled_strerror(rc_),   \
                    err ? err : "", (want), sled_strerror(want));          \
            failures++;                                                    \
        } else if ((want) > SLED_NOT_FOUND && (err == NULL || err[0] == 0)) { \
            fprintf(stderr, "%s:%d: %s: no error message\n", __FILE__,     \
                    __LINE__, #call);                                      \
            failures++;                                                    \
        } else if ((want) <= SLED_NOT_FOUND && err != NULL) {              \
            fprintf(stderr, "%s:%d: %s: message on success\n", __FILE__,   \
                    __LINE__, #call);                                      \
            failures++;                                                    \
        }                                                                  \
        sled_free(err);                                                    \
    } while (0)

static int eq(const uint8_t *p, size_t n, const char *s) {
    return p != NULL && n == strlen(s) && memcmp(p, s, n) == 0;
}

static char *path(const char *name) {
    static char buf[8][512];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static void test_version(void) {
    CHECK(sled_version() == SLED_VERSION);
    CHECK(SLED_VERSION_OK());
    for (int s = SLED_OK; s <= SLED_ERR_SNAPSHOT_EXPIRED; s++) {
        CHECK(strcmp(sled_strerror(s), "unknown status") != 0);
    }
    CHECK(strcmp(sled_strerror(-1), "unknown status") == 0);
    CHECK(strcmp(sled_strerror(1000), "unknown status") == 0);
    sled_free(NULL);
}

static void test_config(void) {
    sled_config *cfg;
    CHECK_RC(sled_config_new(NULL), SLED_ERR_INVALID_ARGUMENT);
    CHECK_RC(sled_config_new(&cfg), SLED_OK);
    CHECK_RC(sled_config_set_path(cfg, NULL), SLED_ERR_INVALID_ARGUMENT);
    CHECK_RC(sled_config_set_path(cfg, path("cfg")), SLED_OK);
    CHECK_RC(sled_config_set_cache_capacity(cfg, 8 << 20), SLED_OK);
    CHECK_RC(sled_config_set_flush_every_ms(cfg, 100), SLED_OK);
    CHECK_RC(sled_config_set_flush_every_ms(cfg, INT64_MAX), SLED_ERR_INVALID_ARGUMENT);
    CHECK_RC(sled_config_set_compression(cfg, 1, 3), SLED_OK);
    CHECK_RC(sled_config_set_mode(cfg, SLED_MODE_HIGH_THROUGHPUT), SLED_OK);
    CHECK_RC(sled_config_set_segment_size(cfg, 1 << 20), SLED_OK);
    CHECK_RC(sled_config_set_segment_size(cfg, INT64_MAX), SLED_ERR_INVALID_ARGUMENT);
    CHECK_RC(sled_config_set_create_new(cfg, 1), SLED_OK);
    CHECK_RC(sled_config_set_temporary(cfg, 0), SLED_OK);

    sled_db *db = (sled_db *)1;
    OK(sled_open(cfg, &db, &err));
    CHECK(db != NULL);
    // The directory is held: a second opener fails with LOCKED.
    sled_db *db2 = (sled_db *)1;
    CHECK_RC(sled_config_set_create_new(cfg, 0), SLED_OK);
    FAILS(sled_open(cfg, &db2, &err), SLED_ERR_LOCKED);
    CHECK(db2 == NULL);
    OK(sled_close(db, &err));
    CHECK_RC(sled_config_set_create_new(cfg, 1), SLED_OK);
    FAILS(sled_open(cfg, &db2, &err), SLED_ERR_EXISTS);

    // Every invalid setting is reported at once.
    CHECK_RC(sled_config_set_mode(cfg, 7), SLED_OK);
    CHECK_RC(sled_config_set_compression(cfg, 1, 99), SLED_OK);
    char *err = NULL;
    CHECK_RC(sled_open(cfg, &db2, &err), SLED_ERR_INVALID_CONFIG);
    CHECK(err != NULL && strstr(err, "Mode") && strstr(err, "CompressionLevel"));
    sled_free(err);
    CHECK_RC(sled_config_set_cache_capacity(cfg, -1), SLED_OK);
    FAILS(sled_open(cfg, &db2, &err), SLED_ERR_INVALID_CONFIG);

    // A temporary database without a path.
    sled_config *tmp;
    CHECK_RC(sled_config_new(&tmp), SLED_OK);
    FAILS(sled_open(tmp, &db2, &err), SLED_ERR_INVALID_CONFIG); // no path, not temporary
    CHECK_RC(sled_config_set_temporary(tmp, 1), SLED_OK);
    OK(sled_open(tmp, &db2, &err));
    OK(sled_close(db2, &err));
    CHECK_RC(sled_config_free(tmp), SLED_OK);

    CHECK_RC(sled_config_free(cfg), SLED_OK);
    CHECK_RC(sled_config_free(cfg), SLED_ERR_CLOSED);
    CHECK_RC(sled_config_set_temporary(cfg, 1), SLED_ERR_CLOSED);
    FAILS(sled_open(cfg, &db2, &err), SLED_ERR_CLOSED);
    CHECK_RC(sled_config_free(NULL), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_open(NULL, &db2, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_open(cfg, NULL, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_open_path(NULL, &db2, &err), SLED_ERR_INVALID_ARGUMENT);
    CHECK_RC(sled_open_path(path("cfg"), NULL, NULL), SLED_ERR_INVALID_ARGUMENT);
    // An existing file where the directory should be.
    FILE *f = fopen(path("afile"), "w");
    fputs("x", f);
    fclose(f);
    char sub[600];
    snprintf(sub, sizeof sub, "%s/sub", path("afile"));
    FAILS(sled_open_path(sub, &db2, &err), SLED_ERR_IO);
}

static void test_point(sled_tree *t) {
    uint8_t *v = (uint8_t *)1;
    size_t n = 99;
    FAILS(sled_get(t, B("k"), &v, &n, &err), SLED_NOT_FOUND);
    CHECK(v == NULL && n == 0);
    uint8_t *prev = (uint8_t *)1;
    size_t prev_len = 99;
    OK(sled_insert(t, B("k"), B("v1"), &prev, &prev_len, &err));
    CHECK(prev == NULL && prev_len == 0);
    OK(sled_insert(t, B("k"), B("v2"), &prev, &prev_len, &err));
    CHECK(eq(prev, prev_len, "v1"));
    sled_free(prev);
    OK(sled_get(t, B("k"), &v, &n, &err));
    CHECK(eq(v, n, "v2"));
    sled_free(v);
    int found = -1;
    OK(sled_contains(t, B("k"), &found, &err));
    CHECK(found == 1);
    OK(sled_contains(t, B("nope"), &found, &err));
    CHECK(found == 0);

    // The empty key and the empty value are valid and distinct from absent.
    OK(sled_insert(t, NULL, 0, NULL, 0, NULL, NULL, &err));
    OK(sled_get(t, NULL, 0, &v, &n, &err));
    CHECK(v != NULL && n == 0);
    sled_free(v);
    OK(sled_remove(t, (const uint8_t *)"", 0, &prev, &prev_len, &err));
    CHECK(prev != NULL && prev_len == 0);
    sled_free(prev);
    OK(sled_remove(t, NULL, 0, &prev, &prev_len, &err));
    CHECK(prev == NULL);

    // Binary keys and values with NUL bytes.
    const uint8_t bk[] = {0, 1, 0, 2}, bv[] = {0, 0, 0xff};
    OK(sled_insert(t, bk, 4, bv, 3, NULL, NULL, &err));
    OK(sled_get(t, bk, 4, &v, &n, &err));
    CHECK(n == 3 && memcmp(v, bv, 3) == 0);
    sled_free(v);
    OK(sled_remove(t, bk, 4, NULL, NULL, &err));

    // Argument errors never crash and change nothing.
    FAILS(sled_get(t, NULL, 3, &v, &n, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_get(t, B("k"), NULL, &n, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_get(t, B("k"), &v, NULL, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_insert(t, NULL, 1, B("v"), NULL, NULL, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_insert(t, B("k"), NULL, 5, NULL, NULL, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_remove(t, NULL, 7, NULL, NULL, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_contains(t, B("k"), NULL, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_contains(t, NULL, 1, &found, &err), SLED_ERR_INVALID_ARGUMENT);
    // Lengths over the limits are rejected before the bytes are read, so a
    // small buffer with a huge length is safe (and ASan checks that).
    uint8_t small[4] = {0};
    FAILS(sled_insert(t, small, SLED_MAX_KEY_BYTES + 1, B("v"), NULL, NULL, &err), SLED_ERR_KEY_TOO_LARGE);
    FAILS(sled_insert(t, small, SIZE_MAX, B("v"), NULL, NULL, &err), SLED_ERR_KEY_TOO_LARGE);
    FAILS(sled_insert(t, B("k"), small, (size_t)SLED_MAX_VALUE_BYTES + 1, NULL, NULL, &err), SLED_ERR_VALUE_TOO_LARGE);
    FAILS(sled_get(t, small, SLED_MAX_KEY_BYTES + 1, &v, &n, &err), SLED_ERR_KEY_TOO_LARGE);
    OK(sled_get(t, B("k"), &v, &n, &err));
    CHECK(eq(v, n, "v2"));
    sled_free(v);
    // The largest key is accepted.
    uint8_t *big = calloc(1, SLED_MAX_KEY_BYTES);
    OK(sled_insert(t, big, SLED_MAX_KEY_BYTES, B("big"), NULL, NULL, &err));
    OK(sled_remove(t, big, SLED_MAX_KEY_BYTES, NULL, NULL, &err));
    free(big);
    // err == NULL is allowed everywhere.
    CHECK_RC(sled_insert(t, NULL, 1, NULL, 0, NULL, NULL, NULL), SLED_ERR_INVALID_ARGUMENT);
    CHECK_RC(sled_remove(t, B("k"), NULL, NULL, NULL), SLED_OK);
}

static void test_cas(sled_tree *t) {
    uint8_t *cur = (uint8_t *)1;
    size_t cur_len = 9;
    OK(sled_compare_and_swap(t, B("c"), NULL, 0, B("1"), &cur, &cur_len, &err));
    CHECK(cur == NULL && cur_len == 0);
    FAILS(sled_compare_and_swap(t, B("c"), NULL, 0, B("2"), &cur, &cur_len, &err), SLED_ERR_CAS_MISMATCH);
    CHECK(eq(cur, cur_len, "1"));
    sled_free(cur);
    FAILS(sled_compare_and_swap(t, B("c"), B("x"), B("2"), NULL, NULL, &err), SLED_ERR_CAS_MISMATCH);
    OK(sled_compare_and_swap(t, B("c"), B("1"), (const uint8_t *)"", 0, NULL, NULL, &err));
    // Now present and empty: expecting absent fails with an empty current.
    FAILS(sled_compare_and_swap(t, B("c"), NULL, 0, B("z"), &cur, &cur_len, &err), SLED_ERR_CAS_MISMATCH);
    CHECK(cur != NULL && cur_len == 0);
    sled_free(cur);
    OK(sled_compare_and_swap(t, B("c"), (const uint8_t *)"", 0, NULL, 0, NULL, NULL, &err));
    int found = 1;
    OK(sled_contains(t, B("c"), &found, &err));
    CHECK(found == 0);
    FAILS(sled_compare_and_swap(t, B("c"), NULL, 0, B("1"), &cur, &cur_len, &err) == SLED_OK ? SLED_OK : -1, SLED_OK);
    OK(sled_remove(t, B("c"), NULL, NULL, &err));
    FAILS(sled_compare_and_swap(t, NULL, 2, NULL, 0, NULL, 0, NULL, NULL, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_compare_and_swap(t, B("c"), NULL, 2, NULL, 0, NULL, NULL, &err), SLED_ERR_INVALID_ARGUMENT);
    uint8_t small[1];
    FAILS(sled_compare_and_swap(t, B("c"), NULL, 0, small, (size_t)SLED_MAX_VALUE_BYTES + 1, NULL, NULL, &err), SLED_ERR_VALUE_TOO_LARGE);
}

// concat appends the operand to the old value; operand "fail" fails,
// "del" deletes, "empty" sets the empty value.
static int concat(void *ctx, const uint8_t *key, size_t key_len,
                  const uint8_t *old, size_t old_len,
                  const uint8_t *op, size_t op_len, uint8_t **out, size_t *out_len) {
    (void)key;
    (void)key_len;
    int *calls = ctx;
    __atomic_add_fetch(calls, 1, __ATOMIC_SEQ_CST);
    if (op_len == 4 && memcmp(op, "fail", 4) == 0) return 42;
    if (op_len == 3 && memcmp(op, "del", 3) == 0) return SLED_MERGE_DELETE;
    if (op_len == 5 && memcmp(op, "empty", 5) == 0) {
        *out = NULL;
        *out_len = 0;
        return SLED_MERGE_SET;
    }
    uint8_t *b = malloc(old_len + op_len);
    if (old_len) memcpy(b, old, old_len);
    memcpy(b + old_len, op, op_len);
    *out = b;
    *out_len = old_len + op_len;
    return SLED_MERGE_SET;
}

static void test_merge(sled_db *db, sled_tree *t) {
    uint8_t *v;
    size_t n;
    FAILS(sled_merge(t, B("m"), B("a"), &v, &n, &err), SLED_ERR_NO_MERGE_OPERATOR);
    int calls = 0;
    OK(sled_set_merge_operator(t, concat, &calls, &err));
    OK(sled_merge(t, B("m"), B("a"), &v, &n, &err));
    CHECK(eq(v, n, "a"));
    sled_free(v);
    OK(sled_merge(t, B("m"), B("bc"), NULL, NULL, &err));
    OK(sled_get(t, B("m"), &v, &n, &err));
    CHECK(eq(v, n, "abc"));
    sled_free(v);
    CHECK(calls >= 2);
    // Another handle to the same tree sees the operator.
    sled_tree *t2;
    OK(sled_default_tree(db, &t2, &err));
    OK(sled_merge(t2, B("m"), B("d"), NULL, NULL, &err));
    CHECK_RC(sled_tree_close(t2), SLED_OK);
    // A failing callback fails this call only and changes nothing.
    FAILS(sled_merge(t, B("m"), B("fail"), &v, &n, &err), SLED_ERR_MERGE_FAILED);
    CHECK(v == NULL);
    OK(sled_get(t, B("m"), &v, &n, &err));
    CHECK(eq(v, n, "abcd"));
    sled_free(v);
    OK(sled_merge(t, B("m"), B("empty"), &v, &n, &err));
    CHECK(v != NULL && n == 0);
    sled_free(v);
    OK(sled_merge(t, B("m"), B("del"), &v, &n, &err));
    CHECK(v == NULL && n == 0);
    int found = 1;
    OK(sled_contains(t, B("m"), &found, &err));
    CHECK(found == 0);
    FAILS(sled_merge(t, NULL, 1, B("x"), NULL, NULL, &err), SLED_ERR_INVALID_ARGUMENT);
    OK(sled_set_merge_operator(t, NULL, NULL, &err));
    FAILS(sled_merge(t, B("m"), B("a"), NULL, NULL, &err), SLED_ERR_NO_MERGE_OPERATOR);
}

static void test_ordered(sled_db *db) {
    sled_tree *t;
    OK(sled_open_tree(db, "ordered", 7, &t, &err));
    uint8_t *k, *v;
    size_t kn, vn;
    FAILS(sled_first(t, &k, &kn, &v, &vn, &err), SLED_NOT_FOUND);
    CHECK(k == NULL && v == NULL);
    FAILS(sled_pop_max(t, &k, &kn, &v, &vn, &err), SLED_NOT_FOUND);
    const char *keys[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++) {
        OK(sled_insert(t, (const uint8_t *)keys[i], 1, (const uint8_t *)"v", 1, NULL, NULL, &err));
    }
    uint64_t count = 0;
    OK(sled_len(t, &count, &err));
    CHECK(count == 4);
    FAILS(sled_len(t, NULL, &err), SLED_ERR_INVALID_ARGUMENT);
    OK(sled_first(t, &k, &kn, NULL, NULL, &err));
    CHECK(eq(k, kn, "a"));
    sled_free(k);
    OK(sled_last(t, &k, &kn, &v, &vn, &err));
    CHECK(eq(k, kn, "d") && eq(v, vn, "v"));
    sled_free(k);
    sled_free(v);
    OK(sled_get_lt(t, B("c"), &k, &kn, NULL, NULL, &err));
    CHECK(eq(k, kn, "b"));
    sled_free(k);
    OK(sled_get_gt(t, B("c"), &k, &kn, NULL, NULL, &err));
    CHECK(eq(k, kn, "d"));
    sled_free(k);
    FAILS(sled_get_lt(t, B("a"), &k, &kn, NULL, NULL, &err), SLED_NOT_FOUND);
    FAILS(sled_get_gt(t, B("d"), &k, &kn, NULL, NULL, &err), SLED_NOT_FOUND);
    FAILS(sled_get_gt(t, NULL, 3, &k, &kn, NULL, NULL, &err), SLED_ERR_INVALID_ARGUMENT);
    OK(sled_pop_min(t, &k, &kn, NULL, NULL, &err));
    CHECK(eq(k, kn, "a"));
    sled_free(k);
    OK(sled_pop_max(t, NULL, NULL, NULL, NULL, &err));
    OK(sled_len(t, &count, &err));
    CHECK(count == 2);
    OK(sled_clear(t, &err));
    OK(sled_len(t, &count, &err));
    CHECK(count == 0);
    CHECK_RC(sled_tree_close(t), SLED_OK);
}

static void test_batch(sled_tree *t) {
    sled_batch *b;
    CHECK_RC(sled_batch_new(NULL), SLED_ERR_INVALID_ARGUMENT);
    CHECK_RC(sled_batch_new(&b), SLED_OK);
    OK(sled_insert(t, B("b/gone"), B("x"), NULL, NULL, &err));
    OK(sled_batch_insert(b, B("b/1"), B("one"), &err));
    OK(sled_batch_insert(b, B("b/2"), B("two"), &err));
    OK(sled_batch_remove(b, B("b/gone"), &err));
    FAILS(sled_batch_insert(b, NULL, 1, B("x"), &err), SLED_ERR_INVALID_ARGUMENT);
    uint8_t small[1];
    FAILS(sled_batch_insert(b, small, SLED_MAX_KEY_BYTES + 1, B("x"), &err), SLED_ERR_KEY_TOO_LARGE);
    FAILS(sled_batch_remove(b, NULL, 1, &err), SLED_ERR_INVALID_ARGUMENT);
    size_t count = 0;
    CHECK_RC(sled_batch_len(b, &count), SLED_OK);
    CHECK(count == 3);
    CHECK_RC(sled_batch_len(b, NULL), SLED_ERR_INVALID_ARGUMENT);
    OK(sled_apply_batch(t, b, &err));
    uint8_t *v;
    size_t n;
    OK(sled_get(t, B("b/2"), &v, &n, &err));
    CHECK(eq(v, n, "two"));
    sled_free(v);
    FAILS(sled_get(t, B("b/gone"), &v, &n, &err), SLED_NOT_FOUND);
    CHECK_RC(sled_batch_free(b), SLED_OK);
    CHECK_RC(sled_batch_free(b), SLED_ERR_CLOSED);
    FAILS(sled_apply_batch(t, b, &err), SLED_ERR_CLOSED);
    FAILS(sled_batch_insert(b, B("k"), B("v"), &err), SLED_ERR_CLOSED);
    FAILS(sled_apply_batch(t, NULL, &err), SLED_ERR_INVALID_ARGUMENT);
    OK(sled_remove(t, B("b/1"), NULL, NULL, &err));
    OK(sled_remove(t, B("b/2"), NULL, NULL, &err));
}

// collect runs an iterator to its end and concatenates its keys.
static void collect(sled_iter *it, char *out, size_t cap) {
    out[0] = 0;
    uint8_t *k, *v;
    size_t kn, vn;
    int rc;
    char *err = NULL;
    while ((rc = sled_iter_next(it, &k, &kn, &v, &vn, &err)) == SLED_OK) {
        strncat(out, (const char *)k, kn < cap - strlen(out) - 1 ? kn : 0);
        strncat(out, ",", cap - strlen(out) - 1);
        sled_free(k);
        sled_free(v);
    }
    CHECK(rc == SLED_NOT_FOUND && err == NULL);
    sled_free(err);
}

static void test_iter(sled_db *db) {
    sled_tree *t;
    OK(sled_open_tree(db, "iter", 4, &t, &err));
    const char *keys[] = {"a", "ab", "abc", "b", "c"};
    for (int i = 0; i < 5; i++) {
        OK(sled_insert(t, (const uint8_t *)keys[i], strlen(keys[i]), (const uint8_t *)keys[i], strlen(keys[i]), NULL, NULL, &err));
    }
    char got[256];
    sled_iter *it;
    OK(sled_iter_range(t, NULL, 0, NULL, 0, 0, &it, &err));
    uint8_t *k;
    size_t kn;
    CHECK_RC(sled_iter_key(it, &k, &kn), SLED_NOT_FOUND); // not positioned yet
    collect(it, got, sizeof got);
    CHECK(strcmp(got, "a,ab,abc,b,c,") == 0);
    FAILS(sled_iter_next(it, NULL, NULL, NULL, NULL, &err), SLED_NOT_FOUND); // still the end
    CHECK_RC(sled_iter_value(it, &k, &kn), SLED_NOT_FOUND);
    CHECK_RC(sled_iter_close(it), SLED_OK);
    CHECK_RC(sled_iter_close(it), SLED_ERR_CLOSED);
    FAILS(sled_iter_next(it, NULL, NULL, NULL, NULL, &err), SLED_ERR_CLOSED);

    OK(sled_iter_range(t, B("ab"), B("c"), 0, &it, &err));
    collect(it, got, sizeof got);
    CHECK(strcmp(got, "ab,abc,b,") == 0);
    CHECK_RC(sled_iter_close(it), SLED_OK);
    OK(sled_iter_range(t, B("ab"), NULL, 0, 1, &it, &err));
    collect(it, got, sizeof got);
    CHECK(strcmp(got, "c,b,abc,ab,") == 0);
    CHECK_RC(sled_iter_close(it), SLED_OK);
    OK(sled_iter_prefix(t, B("a"), 0, &it, &err));
    collect(it, got, sizeof got);
    CHECK(strcmp(got, "a,ab,abc,") == 0);
    CHECK_RC(sled_iter_close(it), SLED_OK);
    OK(sled_iter_prefix(t, B("ab"), 1, &it, &err));
    // key/value copies of the current entry.
    OK(sled_iter_next(it, NULL, NULL, NULL, NULL, &err));
    uint8_t *v;
    CHECK_RC(sled_iter_key(it, &k, &kn), SLED_OK);
    CHECK_RC(sled_iter_value(it, &v, NULL), SLED_OK);
    CHECK(eq(k, kn, "abc") && v != NULL && memcmp(v, "abc", 3) == 0);
    sled_free(k);
    sled_free(v);
    CHECK_RC(sled_iter_key(it, NULL, &kn), SLED_ERR_INVALID_ARGUMENT);
    CHECK_RC(sled_iter_close(it), SLED_OK);
    OK(sled_iter_prefix(t, NULL, 0, 0, &it, &err)); // everything
    collect(it, got, sizeof got);
    CHECK(strcmp(got, "a,ab,abc,b,c,") == 0);
    CHECK_RC(sled_iter_close(it), SLED_OK);

    FAILS(sled_iter_range(t, NULL, 1, NULL, 0, 0, &it, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_iter_range(t, NULL, 0, NULL, 0, 0, NULL, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_iter_prefix(t, NULL, 1, 0, &it, &err), SLED_ERR_INVALID_ARGUMENT);
    CHECK_RC(sled_iter_close(NULL), SLED_ERR_INVALID_ARGUMENT);
    CHECK_RC(sled_tree_close(t), SLED_OK);
}

static void test_trees(sled_db *db) {
    sled_tree *t;
    OK(sled_open_tree(db, "users", 5, &t, &err));
    OK(sled_insert(t, B("u1"), B("ada"), NULL, NULL, &err));
    char *name;
    size_t name_len;
    OK(sled_tree_name(t, &name, &name_len, &err));
    CHECK(strcmp(name, "users") == 0 && name_len == 5);
    sled_free(name);
    FAILS(sled_tree_name(t, NULL, NULL, &err), SLED_ERR_INVALID_ARGUMENT);
    char **names;
    size_t count;
    OK(sled_tree_names(db, &names, &count, &err));
    int saw_users = 0, saw_default = 0;
    for (size_t i = 0; i < count; i++) {
        saw_users |= strcmp(names[i], "users") == 0;
        saw_default |= strcmp(names[i], "__sled__default") == 0;
    }
    CHECK(saw_users && saw_default);
    sled_free(names); // one allocation
    FAILS(sled_tree_names(db, NULL, &count, &err), SLED_ERR_INVALID_ARGUMENT);

    OK(sled_drop_tree(db, "users", 5, &err));
    uint8_t *v;
    size_t n;
    FAILS(sled_get(t, B("u1"), &v, &n, &err), SLED_ERR_TREE_NOT_FOUND);
    FAILS(sled_drop_tree(db, "users", 5, &err), SLED_ERR_TREE_NOT_FOUND);
    FAILS(sled_drop_tree(db, "__sled__default", 15, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_drop_tree(db, NULL, 3, &err), SLED_ERR_INVALID_ARGUMENT);
    CHECK_RC(sled_tree_close(t), SLED_OK);
    CHECK_RC(sled_tree_close(t), SLED_ERR_CLOSED);
    FAILS(sled_get(t, B("u1"), &v, &n, &err), SLED_ERR_CLOSED);
    // A re-created tree is empty.
    OK(sled_open_tree(db, "users", 5, &t, &err));
    FAILS(sled_get(t, B("u1"), &v, &n, &err), SLED_NOT_FOUND);
    CHECK_RC(sled_tree_close(t), SLED_OK);
    // Names are bytes; the empty name is a tree too.
    OK(sled_open_tree(db, NULL, 0, &t, &err));
    CHECK_RC(sled_tree_close(t), SLED_OK);
    char longname[SLED_MAX_TREE_NAME_BYTES + 1];
    memset(longname, 'n', sizeof longname);
    FAILS(sled_open_tree(db, longname, sizeof longname, &t, &err), SLED_ERR_KEY_TOO_LARGE);
    FAILS(sled_open_tree(db, "x", 1, NULL, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_default_tree(db, NULL, &err), SLED_ERR_INVALID_ARGUMENT);
}

static void test_db_misc(sled_db *db, sled_tree *t) {
    OK(sled_flush(db, &err));
    uint64_t a = 0, b = 0;
    OK(sled_generate_id(db, &a, &err));
    OK(sled_generate_id(db, &b, &err));
    CHECK(b > a);
    FAILS(sled_generate_id(db, NULL, &err), SLED_ERR_INVALID_ARGUMENT);
    int64_t size = -1;
    OK(sled_size_on_disk(db, &size, &err));
    CHECK(size > 0);
    FAILS(sled_size_on_disk(db, NULL, &err), SLED_ERR_INVALID_ARGUMENT);
    int rec = -1;
    OK(sled_was_recovered(db, &rec, &err));
    CHECK(rec == 0);
    FAILS(sled_was_recovered(db, NULL, &err), SLED_ERR_INVALID_ARGUMENT);

    OK(sled_insert(t, B("x1"), B("y1"), NULL, NULL, &err));
    uint32_t crc = 0, crc2 = 1;
    OK(sled_checksum(db, &crc, &err));
    FAILS(sled_checksum(db, NULL, &err), SLED_ERR_INVALID_ARGUMENT);

    // Stats: all fields, and a caller with an older, smaller struct.
    sled_stats st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    OK(sled_stats_get(db, &st, &err));
    CHECK(st.trees >= 1 && st.disk_bytes > 0 && st.struct_size == sizeof st);
    struct {
        sled_stats s;
        uint64_t canary;
    } small;
    memset(&small, 0xAB, sizeof small);
    small.s.struct_size = offsetof(sled_stats, pages);
    OK(sled_stats_get(db, &small.s, &err));
    CHECK(small.s.trees >= 1);
    CHECK(small.s.pages == (int64_t)0xABABABABABABABABull); // beyond struct_size: untouched
    CHECK(small.canary == 0xABABABABABABABABull);
    st.struct_size = 0;
    FAILS(sled_stats_get(db, &st, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_stats_get(db, NULL, &err), SLED_ERR_INVALID_ARGUMENT);

    // Export, import into a fresh database, same checksum.
    OK(sled_export(db, path("dump"), &err));
    sled_db *db2;
    OK(sled_open_path(path("imported"), &db2, &err));
    OK(sled_import(db2, path("dump"), &err));
    OK(sled_checksum(db2, &crc2, &err));
    CHECK(crc == crc2);
    FAILS(sled_import(db2, path("no-such-dump"), &err), SLED_ERR_IO);
    FILE *f = fopen(path("garbage"), "w");
    fputs("this is not a sled dump, not at all", f);
    fclose(f);
    FAILS(sled_import(db2, path("garbage"), &err), SLED_ERR_CORRUPTION);
    FAILS(sled_export(db2, "/nonexistent-dir/x/dump", &err), SLED_ERR_IO);
    FAILS(sled_export(db2, NULL, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_import(db2, NULL, &err), SLED_ERR_INVALID_ARGUMENT);
    OK(sled_close(db2, &err));
}

// Handles: NULL, closed, stale, of the wrong kind, and a database closed
// under its trees and iterators.
static void test_handles(void) {
    sled_db *db;
    OK(sled_open_path(path("handles"), &db, &err));
    sled_tree *t;
    OK(sled_default_tree(db, &t, &err));
    sled_iter *it;
    OK(sled_iter_range(t, NULL, 0, NULL, 0, 0, &it, &err));
    OK(sled_insert(t, B("k"), B("v"), NULL, NULL, &err));
    uint8_t *v;
    size_t n;
    // A handle of another kind is an invalid argument, never a crash.
    FAILS(sled_get((sled_tree *)db, B("k"), &v, &n, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_flush((sled_db *)t, &err), SLED_ERR_INVALID_ARGUMENT);
    CHECK_RC(sled_iter_close((sled_iter *)t), SLED_ERR_INVALID_ARGUMENT);
    // Never-issued handles read as closed.
    FAILS(sled_get((sled_tree *)(uintptr_t)0x7fffffff, B("k"), &v, &n, &err), SLED_ERR_CLOSED);
    FAILS(sled_flush((sled_db *)(uintptr_t)-1, &err), SLED_ERR_CLOSED);
    // NULL handles.
    FAILS(sled_get(NULL, B("k"), &v, &n, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_flush(NULL, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_close(NULL, &err), SLED_ERR_INVALID_ARGUMENT);
    CHECK_RC(sled_tree_close(NULL), SLED_ERR_INVALID_ARGUMENT);
    CHECK_RC(sled_batch_free(NULL), SLED_ERR_INVALID_ARGUMENT);

    OK(sled_close(db, &err));
    // After close every call on the db and on its children says CLOSED.
    FAILS(sled_close(db, &err), SLED_ERR_CLOSED);
    FAILS(sled_flush(db, &err), SLED_ERR_CLOSED);
    FAILS(sled_get(t, B("k"), &v, &n, &err), SLED_ERR_CLOSED);
    FAILS(sled_insert(t, B("k"), B("v"), NULL, NULL, &err), SLED_ERR_CLOSED);
    FAILS(sled_iter_next(it, NULL, NULL, NULL, NULL, &err), SLED_ERR_CLOSED);
    CHECK_RC(sled_iter_close(it), SLED_ERR_CLOSED);
    CHECK_RC(sled_tree_close(t), SLED_ERR_CLOSED);
    FAILS(sled_default_tree(db, &t, &err), SLED_ERR_CLOSED);
    FAILS(sled_stats_get(db, &(sled_stats){.struct_size = sizeof(sled_stats)}, &err), SLED_ERR_CLOSED);
    char **names;
    size_t count;
    FAILS(sled_tree_names(db, &names, &count, &err), SLED_ERR_CLOSED);

    // Reopened: the data is there and the database says it recovered.
    OK(sled_open_path(path("handles"), &db, &err));
    int rec = 0;
    OK(sled_was_recovered(db, &rec, &err));
    CHECK(rec == 1);
    OK(sled_default_tree(db, &t, &err));
    OK(sled_get(t, B("k"), &v, &n, &err));
    CHECK(eq(v, n, "v"));
    sled_free(v);
    OK(sled_close(db, &err));
}

// ---- transactions and snapshots -----------------------------------------

// Commit makes the writes visible at once, own writes are visible inside,
// abort writes nothing, and a finished transaction is a stale handle.
static void test_tx_basic(sled_db *db, sled_tree *t) {
    sled_tree *other;
    OK(sled_open_tree(db, "txother", 7, &other, &err));
    uint8_t *v = (uint8_t *)1;
    size_t n = 9;

    sled_tx *tx = (sled_tx *)1;
    OK(sled_tx_begin(db, &tx, &err));
    CHECK(tx != NULL);
    FAILS(sled_tx_get(tx, t, B("tx/a"), &v, &n, &err), SLED_NOT_FOUND);
    CHECK(v == NULL && n == 0);
    OK(sled_tx_insert(tx, t, B("tx/a"), B("1"), &err));
    OK(sled_tx_insert(tx, other, B("tx/b"), B("2"), &err)); // another tree, same tx
    OK(sled_tx_insert(tx, t, B("tx/gone"), B("x"), &err));
    OK(sled_tx_remove(tx, t, B("tx/gone"), &err));
    OK(sled_tx_remove(tx, t, B("tx/never"), &err)); // absent is fine
    // Own writes are visible through the transaction...
    OK(sled_tx_get(tx, t, B("tx/a"), &v, &n, &err));
    CHECK(eq(v, n, "1"));
    sled_free(v);
    OK(sled_tx_get(tx, other, B("tx/b"), &v, &n, &err));
    CHECK(eq(v, n, "2"));
    sled_free(v);
    FAILS(sled_tx_get(tx, t, B("tx/gone"), &v, &n, &err), SLED_NOT_FOUND);
    // ...and to no one else before the commit.
    FAILS(sled_get(t, B("tx/a"), &v, &n, &err), SLED_NOT_FOUND);
    // A value larger than the scratch buffer of sled_tx_get, and empty ones.
    uint8_t big[1000];
    memset(big, 'z', sizeof big);
    OK(sled_tx_insert(tx, t, B("tx/big"), big, sizeof big, &err));
    OK(sled_tx_get(tx, t, B("tx/big"), &v, &n, &err));
    CHECK(n == sizeof big && memcmp(v, big, n) == 0);
    sled_free(v);
    OK(sled_tx_insert(tx, t, NULL, 0, NULL, 0, &err));
    OK(sled_tx_get(tx, t, NULL, 0, &v, &n, &err));
    CHECK(v != NULL && n == 0);
    sled_free(v);
    OK(sled_tx_commit(tx, &err));
    OK(sled_get(t, B("tx/a"), &v, &n, &err));
    CHECK(eq(v, n, "1"));
    sled_free(v);
    OK(sled_get(other, B("tx/b"), &v, &n, &err));
    CHECK(eq(v, n, "2"));
    sled_free(v);
    OK(sled_get(t, NULL, 0, &v, &n, &err));
    CHECK(v != NULL && n == 0);
    sled_free(v);
    FAILS(sled_get(t, B("tx/gone"), &v, &n, &err), SLED_NOT_FOUND);
    OK(sled_remove(t, NULL, 0, NULL, NULL, &err));
    OK(sled_remove(t, B("tx/big"), NULL, NULL, &err));

    // Use after commit: the handle is stale.
    FAILS(sled_tx_get(tx, t, B("tx/a"), &v, &n, &err), SLED_ERR_CLOSED);
    CHECK(v == NULL && n == 0);
    FAILS(sled_tx_insert(tx, t, B("tx/a"), B("3"), &err), SLED_ERR_CLOSED);
    FAILS(sled_tx_remove(tx, t, B("tx/a"), &err), SLED_ERR_CLOSED);
    FAILS(sled_tx_commit(tx, &err), SLED_ERR_CLOSED);
    CHECK_RC(sled_tx_abort(tx), SLED_ERR_CLOSED);
    sled_iter *it = (sled_iter *)1;
    FAILS(sled_tx_iter_range(tx, t, NULL, 0, NULL, 0, 0, &it, &err), SLED_ERR_CLOSED);
    CHECK(it == NULL);

    // Abort writes nothing; use after abort is stale too.
    OK(sled_tx_begin(db, &tx, &err));
    OK(sled_tx_insert(tx, t, B("tx/a"), B("aborted"), &err));
    OK(sled_tx_remove(tx, other, B("tx/b"), &err));
    CHECK_RC(sled_tx_abort(tx), SLED_OK);
    CHECK_RC(sled_tx_abort(tx), SLED_ERR_CLOSED);
    FAILS(sled_tx_commit(tx, &err), SLED_ERR_CLOSED);
    FAILS(sled_tx_get(tx, t, B("tx/a"), &v, &n, &err), SLED_ERR_CLOSED);
    FAILS(sled_tx_insert(tx, t, B("tx/a"), B("3"), &err), SLED_ERR_CLOSED);
    OK(sled_get(t, B("tx/a"), &v, &n, &err));
    CHECK(eq(v, n, "1"));
    sled_free(v);
    OK(sled_get(other, B("tx/b"), &v, &n, &err));
    CHECK(eq(v, n, "2"));
    sled_free(v);

    // An empty transaction commits.
    OK(sled_tx_begin(db, &tx, &err));
    OK(sled_tx_commit(tx, &err));
    // A transaction that only reads commits (nothing changed).
    OK(sled_tx_begin(db, &tx, &err));
    OK(sled_tx_get(tx, t, B("tx/a"), &v, &n, &err));
    sled_free(v);
    OK(sled_tx_commit(tx, &err));

    // A dropped tree.
    OK(sled_tx_begin(db, &tx, &err));
    OK(sled_drop_tree(db, "txother", 7, &err));
    FAILS(sled_tx_get(tx, other, B("tx/b"), &v, &n, &err), SLED_ERR_TREE_NOT_FOUND);
    FAILS(sled_tx_insert(tx, other, B("tx/b"), B("1"), &err), SLED_ERR_TREE_NOT_FOUND);
    CHECK_RC(sled_tx_abort(tx), SLED_OK);
    CHECK_RC(sled_tree_close(other), SLED_OK);
    OK(sled_remove(t, B("tx/a"), NULL, NULL, &err));
}

// get_counter reads key's decimal value through tx (absent = 0); returns
// the status.
static int tx_get_counter(sled_tx *tx, sled_tree *t, const char *key, long *out, char **err) {
    uint8_t *v;
    size_t n;
    int rc = sled_tx_get(tx, t, (const uint8_t *)key, strlen(key), &v, &n, err);
    *out = 0;
    if (rc == SLED_OK) {
        char buf[32];
        snprintf(buf, sizeof buf, "%.*s", (int)n, (const char *)v);
        *out = strtol(buf, NULL, 10);
        sled_free(v);
    }
    return rc == SLED_NOT_FOUND ? SLED_OK : rc;
}

static int tx_put_counter(sled_tx *tx, sled_tree *t, const char *key, long val, char **err) {
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld", val);
    return sled_tx_insert(tx, t, (const uint8_t *)key, strlen(key), (const uint8_t *)buf, n, err);
}

// tx_increment adds 1 to key in a transaction, beginning again on each
// conflict: the retry loop of sled.h. Returns the final status; *conflicts
// counts the attempts lost.
static int tx_increment(sled_db *db, sled_tree *t, const char *key, int *conflicts) {
    for (int attempt = 0;; attempt++) {
        char *err = NULL;
        sled_tx *tx;
        int rc = sled_tx_begin(db, &tx, &err);
        if (rc != SLED_OK) {
            sled_free(err);
            return rc;
        }
        long cur;
        rc = tx_get_counter(tx, t, key, &cur, &err);
        if (rc == SLED_OK) rc = tx_put_counter(tx, t, key, cur + 1, &err);
        if (rc != SLED_OK) {
            sled_tx_abort(tx);
            sled_free(err);
            return rc;
        }
        rc = sled_tx_commit(tx, &err);
        if (rc != SLED_ERR_CONFLICT) {
            if (rc != SLED_OK) sled_free(err);
            return rc;
        }
        CHECK(err != NULL && strstr(err, "conflict") != NULL);
        sled_free(err);
        (*conflicts)++;
        // Back off a little more after every loss, with jitter, so that
        // the losers take turns.
        if (attempt > 2) usleep((useconds_t)(rand() % (20 * (attempt < 20 ? attempt : 20)) + 1));
        else sched_yield();
    }
}

// A conflicting plain write makes the commit fail with SLED_ERR_CONFLICT
// and write nothing; beginning again succeeds. Blind writes (no read) do
// not conflict.
static void test_tx_conflict(sled_db *db, sled_tree *t) {
    OK(sled_insert(t, B("cnt"), B("10"), NULL, NULL, &err));
    sled_tx *a;
    OK(sled_tx_begin(db, &a, &err));
    long cur = -1;
    OK(tx_get_counter(a, t, "cnt", &cur, &err));
    CHECK(cur == 10);
    OK(tx_put_counter(a, t, "other", 1, &err));
    OK(sled_insert(t, B("cnt"), B("20"), NULL, NULL, &err)); // behind a's back
    OK(tx_put_counter(a, t, "cnt", cur + 1, &err));
    char *err = NULL;
    CHECK_RC(sled_tx_commit(a, &err), SLED_ERR_CONFLICT);
    CHECK(err != NULL && strstr(err, "conflict") != NULL);
    sled_free(err);
    CHECK_RC(sled_tx_abort(a), SLED_ERR_CLOSED); // already released
    uint8_t *v;
    size_t n;
    OK(sled_get(t, B("cnt"), &v, &n, &err));
    CHECK(eq(v, n, "20")); // a wrote nothing
    sled_free(v);
    FAILS(sled_get(t, B("other"), &v, &n, &err), SLED_NOT_FOUND);
    int conflicts = 0;
    CHECK_RC(tx_increment(db, t, "cnt", &conflicts), SLED_OK);
    OK(sled_get(t, B("cnt"), &v, &n, &err));
    CHECK(eq(v, n, "21"));
    sled_free(v);

    // A removal read by a transaction conflicts too.
    OK(sled_tx_begin(db, &a, &err));
    OK(tx_get_counter(a, t, "cnt", &cur, &err));
    OK(sled_remove(t, B("cnt"), NULL, NULL, &err));
    OK(tx_put_counter(a, t, "cnt", cur + 1, &err));
    FAILS(sled_tx_commit(a, &err), SLED_ERR_CONFLICT);
    FAILS(sled_get(t, B("cnt"), &v, &n, &err), SLED_NOT_FOUND);

    // Two transactions read the same key and write it: the second to commit loses.
    sled_tx *b;
    OK(sled_tx_begin(db, &a, &err));
    OK(sled_tx_begin(db, &b, &err));
    OK(tx_get_counter(a, t, "cnt", &cur, &err));
    OK(tx_get_counter(b, t, "cnt", &cur, &err));
    OK(tx_put_counter(a, t, "cnt", 1, &err));
    OK(tx_put_counter(b, t, "cnt", 2, &err));
    OK(sled_tx_commit(b, &err));
    FAILS(sled_tx_commit(a, &err), SLED_ERR_CONFLICT);
    OK(sled_get(t, B("cnt"), &v, &n, &err));
    CHECK(eq(v, n, "2"));
    sled_free(v);

    // A blind write does not conflict: the last commit wins.
    OK(sled_tx_begin(db, &a, &err));
    OK(tx_put_counter(a, t, "cnt", 7, &err));
    OK(sled_insert(t, B("cnt"), B("8"), NULL, NULL, &err));
    OK(sled_tx_commit(a, &err));
    OK(sled_get(t, B("cnt"), &v, &n, &err));
    CHECK(eq(v, n, "7"));
    sled_free(v);
    OK(sled_remove(t, B("cnt"), NULL, NULL, &err));
}

// A transaction's iterator merges its own writes in key order.
static void test_tx_iter(sled_db *db) {
    sled_tree *t;
    OK(sled_open_tree(db, "txiter", 6, &t, &err));
    const char *keys[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++) {
        OK(sled_insert(t, (const uint8_t *)keys[i], 1, (const uint8_t *)keys[i], 1, NULL, NULL, &err));
    }
    sled_tx *tx;
    OK(sled_tx_begin(db, &tx, &err));
    OK(sled_tx_insert(tx, t, B("bb"), B("new"), &err));
    OK(sled_tx_remove(tx, t, B("c"), &err));
    OK(sled_tx_insert(tx, t, B("a"), B("A"), &err));
    char got[256];
    sled_iter *it;
    OK(sled_tx_iter_range(tx, t, NULL, 0, B("d"), 0, &it, &err));
    collect(it, got, sizeof got);
    CHECK(strcmp(got, "a,b,bb,") == 0);
    CHECK_RC(sled_iter_close(it), SLED_OK);
    OK(sled_tx_iter_range(tx, t, B("b"), NULL, 0, 1, &it, &err));
    uint8_t *k, *v;
    size_t kn, vn;
    OK(sled_iter_next(it, &k, &kn, &v, &vn, &err));
    CHECK(eq(k, kn, "d") && eq(v, vn, "d"));
    sled_free(k);
    sled_free(v);
    OK(sled_iter_next(it, &k, &kn, &v, &vn, &err));
    CHECK(eq(k, kn, "bb") && eq(v, vn, "new"));
    sled_free(k);
    sled_free(v);
    // Iterating after the transaction ended fails cleanly.
    sled_iter *it2;
    OK(sled_tx_iter_range(tx, t, NULL, 0, NULL, 0, 0, &it2, &err));
    OK(sled_iter_next(it2, NULL, NULL, NULL, NULL, &err));
    OK(sled_tx_commit(tx, &err));
    FAILS(sled_iter_next(it, &k, &kn, &v, &vn, &err), SLED_ERR_CLOSED);
    CHECK(k == NULL && v == NULL);
    CHECK_RC(sled_iter_key(it, &k, &kn), SLED_NOT_FOUND);
    CHECK_RC(sled_iter_close(it), SLED_OK);
    CHECK_RC(sled_iter_close(it2), SLED_OK);
    OK(sled_iter_range(t, NULL, 0, NULL, 0, 0, &it, &err));
    collect(it, got, sizeof got);
    CHECK(strcmp(got, "a,b,bb,d,") == 0);
    CHECK_RC(sled_iter_close(it), SLED_OK);

    // A range read conflicts with an insert into it.
    OK(sled_tx_begin(db, &tx, &err));
    OK(sled_tx_iter_range(tx, t, B("a"), B("c"), 0, &it, &err));
    collect(it, got, sizeof got);
    CHECK(strcmp(got, "a,b,bb,") == 0);
    CHECK_RC(sled_iter_close(it), SLED_OK);
    OK(sled_tx_insert(tx, t, B("z"), B("1"), &err));
    OK(sled_insert(t, B("ba"), B("phantom"), NULL, NULL, &err));
    FAILS(sled_tx_commit(tx, &err), SLED_ERR_CONFLICT);

    FAILS(sled_tx_iter_range(NULL, t, NULL, 0, NULL, 0, 0, &it, &err), SLED_ERR_INVALID_ARGUMENT);
    OK(sled_tx_begin(db, &tx, &err));
    FAILS(sled_tx_iter_range(tx, t, NULL, 0, NULL, 0, 0, NULL, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_tx_iter_range(tx, t, NULL, 1, NULL, 0, 0, &it, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_tx_iter_range(tx, NULL, NULL, 0, NULL, 0, 0, &it, &err), SLED_ERR_INVALID_ARGUMENT);
    CHECK_RC(sled_tx_abort(tx), SLED_OK);
    CHECK_RC(sled_tree_close(t), SLED_OK);
}

// Error paths: NULL and wrong handles, bad bytes, limits, closed database.
static void test_tx_errors(sled_db *db, sled_tree *t) {
    uint8_t *v = (uint8_t *)1;
    size_t n = 9;
    sled_tx *tx = (sled_tx *)1;
    FAILS(sled_tx_begin(NULL, &tx, &err), SLED_ERR_INVALID_ARGUMENT);
    CHECK(tx == NULL);
    FAILS(sled_tx_begin(db, NULL, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_tx_begin((sled_db *)t, &tx, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_tx_get(NULL, t, B("k"), &v, &n, &err), SLED_ERR_INVALID_ARGUMENT);
    CHECK(v == NULL && n == 0);
    FAILS(sled_tx_insert(NULL, t, B("k"), B("v"), &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_tx_remove(NULL, t, B("k"), &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_tx_commit(NULL, &err), SLED_ERR_INVALID_ARGUMENT);
    CHECK_RC(sled_tx_abort(NULL), SLED_ERR_INVALID_ARGUMENT);
    CHECK_RC(sled_tx_commit(NULL, NULL), SLED_ERR_INVALID_ARGUMENT); // err is optional
    // Never-issued and wrong-kind handles.
    FAILS(sled_tx_commit((sled_tx *)(uintptr_t)0x7fffffff, &err), SLED_ERR_CLOSED);
    FAILS(sled_tx_get((sled_tx *)t, t, B("k"), &v, &n, &err), SLED_ERR_INVALID_ARGUMENT);
    CHECK_RC(sled_tx_abort((sled_tx *)db), SLED_ERR_INVALID_ARGUMENT);

    OK(sled_tx_begin(db, &tx, &err));
    FAILS(sled_tx_get(tx, NULL, B("k"), &v, &n, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_tx_get(tx, (sled_tree *)tx, B("k"), &v, &n, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_tx_insert(tx, NULL, B("k"), B("v"), &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_tx_get(tx, t, NULL, 1, &v, &n, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_tx_get(tx, t, B("k"), NULL, &n, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_tx_get(tx, t, B("k"), &v, NULL, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_tx_insert(tx, t, NULL, 2, B("v"), &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_tx_insert(tx, t, B("k"), NULL, 2, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_tx_remove(tx, t, NULL, 3, &err), SLED_ERR_INVALID_ARGUMENT);
    uint8_t small[4] = {0};
    FAILS(sled_tx_get(tx, t, small, SLED_MAX_KEY_BYTES + 1, &v, &n, &err), SLED_ERR_KEY_TOO_LARGE);
    FAILS(sled_tx_insert(tx, t, small, SIZE_MAX, B("v"), &err), SLED_ERR_KEY_TOO_LARGE);
    FAILS(sled_tx_insert(tx, t, B("k"), small, (size_t)SLED_MAX_VALUE_BYTES + 1, &err), SLED_ERR_VALUE_TOO_LARGE);
    FAILS(sled_tx_remove(tx, t, small, SLED_MAX_KEY_BYTES + 1, &err), SLED_ERR_KEY_TOO_LARGE);
    // A tree of another database is an invalid argument, not a crash, and
    // the transaction goes on.
    sled_db *db2;
    sled_tree *t2;
    OK(sled_open_path(path("txdb2"), &db2, &err));
    OK(sled_default_tree(db2, &t2, &err));
    FAILS(sled_tx_get(tx, t2, B("k"), &v, &n, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_tx_insert(tx, t2, B("k"), B("v"), &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_tx_remove(tx, t2, B("k"), &err), SLED_ERR_INVALID_ARGUMENT);
    sled_iter *it;
    FAILS(sled_tx_iter_range(tx, t2, NULL, 0, NULL, 0, 0, &it, &err), SLED_ERR_INVALID_ARGUMENT);
    OK(sled_tx_insert(tx, t, B("tx/after-errors"), B("ok"), &err));
    OK(sled_tx_commit(tx, &err));
    OK(sled_get(t, B("tx/after-errors"), &v, &n, &err));
    CHECK(eq(v, n, "ok"));
    sled_free(v);
    OK(sled_remove(t, B("tx/after-errors"), NULL, NULL, &err));
    FAILS(sled_get(t2, B("k"), &v, &n, &err), SLED_NOT_FOUND); // nothing leaked into db2

    // Closing a database releases its transactions: begun, in use, unfinished.
    sled_tx *open1, *open2;
    OK(sled_tx_begin(db2, &open1, &err));
    OK(sled_tx_begin(db2, &open2, &err));
    OK(sled_tx_insert(open1, t2, B("k"), B("v"), &err));
    OK(sled_close(db2, &err));
    FAILS(sled_tx_get(open1, t2, B("k"), &v, &n, &err), SLED_ERR_CLOSED);
    FAILS(sled_tx_insert(open1, t2, B("k"), B("v"), &err), SLED_ERR_CLOSED);
    FAILS(sled_tx_commit(open1, &err), SLED_ERR_CLOSED);
    CHECK_RC(sled_tx_abort(open2), SLED_ERR_CLOSED);
    FAILS(sled_tx_begin(db2, &tx, &err), SLED_ERR_CLOSED);
    CHECK(tx == NULL);
    OK(sled_open_path(path("txdb2"), &db2, &err));
    OK(sled_default_tree(db2, &t2, &err));
    FAILS(sled_get(t2, B("k"), &v, &n, &err), SLED_NOT_FOUND); // never committed
    OK(sled_close(db2, &err));
}

// A transaction over SLED_MAX_TX_OPS fails with SLED_ERR_TX_TOO_LARGE, and
// so does its commit; nothing is written.
static void test_tx_too_large(sled_db *db, sled_tree *t) {
    sled_tx *tx;
    OK(sled_tx_begin(db, &tx, &err));
    int rc = SLED_OK;
    unsigned long i;
    // Overwriting one key keeps the transaction small in memory; each
    // call still counts one operation.
    for (i = 0; i <= SLED_MAX_TX_OPS && rc == SLED_OK; i++) {
        rc = sled_tx_insert(tx, t, B("tx/big"), B(""), NULL);
    }
    CHECK(rc == SLED_ERR_TX_TOO_LARGE && i == (unsigned long)SLED_MAX_TX_OPS + 1);
    FAILS(sled_tx_commit(tx, &err), SLED_ERR_TX_TOO_LARGE);
    uint8_t *v;
    size_t n;
    FAILS(sled_get(t, B("tx/big"), &v, &n, &err), SLED_NOT_FOUND);
}

// Snapshots read one state, and expire when their versions grow too large.
static void test_snapshot(sled_db *db, sled_tree *t) {
    uint8_t *v = (uint8_t *)1;
    size_t n = 9;
    OK(sled_insert(t, B("s/a"), B("1"), NULL, NULL, &err));
    OK(sled_insert(t, B("s/b"), B("1"), NULL, NULL, &err));
    sled_snapshot *s = (sled_snapshot *)1;
    OK(sled_snapshot_open(db, &s, &err));
    CHECK(s != NULL);
    sled_iter *early;
    OK(sled_snapshot_iter_range(s, t, B("s/"), B("s0"), 0, &early, &err));
    OK(sled_insert(t, B("s/a"), B("2"), NULL, NULL, &err));
    OK(sled_remove(t, B("s/b"), NULL, NULL, &err));
    OK(sled_insert(t, B("s/c"), B("2"), NULL, NULL, &err));
    OK(sled_snapshot_get(s, t, B("s/a"), &v, &n, &err));
    CHECK(eq(v, n, "1"));
    sled_free(v);
    OK(sled_snapshot_get(s, t, B("s/b"), &v, &n, &err));
    CHECK(eq(v, n, "1"));
    sled_free(v);
    FAILS(sled_snapshot_get(s, t, B("s/c"), &v, &n, &err), SLED_NOT_FOUND);
    CHECK(v == NULL && n == 0);
    char got[256];
    collect(early, got, sizeof got);
    CHECK(strcmp(got, "s/a,s/b,") == 0);
    CHECK_RC(sled_iter_close(early), SLED_OK);
    sled_iter *it;
    OK(sled_snapshot_iter_range(s, t, B("s/"), B("s0"), 1, &it, &err));
    collect(it, got, sizeof got);
    CHECK(strcmp(got, "s/b,s/a,") == 0);
    CHECK_RC(sled_iter_close(it), SLED_OK);
    // Errors.
    sled_snapshot *none = (sled_snapshot *)1;
    FAILS(sled_snapshot_open(NULL, &none, &err), SLED_ERR_INVALID_ARGUMENT);
    CHECK(none == NULL);
    FAILS(sled_snapshot_open(db, NULL, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_snapshot_get(NULL, t, B("s/a"), &v, &n, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_snapshot_get(s, NULL, B("s/a"), &v, &n, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_snapshot_get(s, t, NULL, 1, &v, &n, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_snapshot_get(s, t, B("s/a"), NULL, &n, &err), SLED_ERR_INVALID_ARGUMENT);
    FAILS(sled_snapshot_get((sled_snapshot *)t, t, B("s/a"), &v, &n, &err), SLED_ERR_INVALID_ARGUMENT);
    uint8_t small[1];
    FAILS(sled_snapshot_get(s, t, small, SLED_MAX_KEY_BYTES + 1, &v, &n, &err), SLED_ERR_KEY_TOO_LARGE);
    FAILS(sled_snapshot_iter_range(s, t, NULL, 0, NULL, 0, 0, NULL, &err), SLED_ERR_INVALID_ARGUMENT);
    CHECK_RC(sled_snapshot_close(NULL), SLED_ERR_INVALID_ARGUMENT);
    // Close: reads and iterators fail with CLOSED.
    OK(sled_snapshot_iter_range(s, t, NULL, 0, NULL, 0, 0, &it, &err));
    CHECK_RC(sled_snapshot_close(s), SLED_OK);
    CHECK_RC(sled_snapshot_close(s), SLED_ERR_CLOSED);
    FAILS(sled_snapshot_get(s, t, B("s/a"), &v, &n, &err), SLED_ERR_CLOSED);
    FAILS(sled_iter_next(it, NULL, NULL, NULL, NULL, &err), SLED_ERR_CLOSED);
    CHECK_RC(sled_iter_close(it), SLED_OK);
    OK(sled_remove(t, B("s/a"), NULL, NULL, &err));
    OK(sled_remove(t, B("s/c"), NULL, NULL, &err));

    // Expiry: with an 8 MiB cache the versions are bounded by 64 MiB.
    sled_config *cfg;
    CHECK_RC(sled_config_new(&cfg), SLED_OK);
    CHECK_RC(sled_config_set_temporary(cfg, 1), SLED_OK);
    CHECK_RC(sled_config_set_cache_capacity(cfg, 8 << 20), SLED_OK);
    sled_db *db2;
    sled_tree *t2;
    OK(sled_open(cfg, &db2, &err));
    CHECK_RC(sled_config_free(cfg), SLED_OK);
    OK(sled_default_tree(db2, &t2, &err));
    enum { MB = 1 << 20 };
    uint8_t *big = calloc(1, MB);
    OK(sled_insert(t2, B("k"), B("old"), NULL, NULL, &err));
    OK(sled_snapshot_open(db2, &s, &err));
    sled_snapshot *s2;
    for (int i = 0; i < 100; i++) {
        char key[16];
        int kn = snprintf(key, sizeof key, "big%d", i);
        OK(sled_insert(t2, (uint8_t *)key, kn, big, MB, NULL, NULL, &err));
        if (i == 0) OK(sled_insert(t2, B("k"), B("new"), NULL, NULL, &err));
        if (i == 95) OK(sled_snapshot_open(db2, &s2, &err)); // needs little
        OK(sled_remove(t2, (uint8_t *)key, kn, NULL, NULL, &err)); // 1 MiB version per open snapshot
    }
    free(big);
    FAILS(sled_snapshot_get(s, t2, B("k"), &v, &n, &err), SLED_ERR_SNAPSHOT_EXPIRED);
    OK(sled_snapshot_get(s2, t2, B("k"), &v, &n, &err)); // the newer one lives
    CHECK(eq(v, n, "new"));
    sled_free(v);
    // sled_close releases open snapshots.
    OK(sled_close(db2, &err));
    FAILS(sled_snapshot_get(s, t2, B("k"), &v, &n, &err), SLED_ERR_CLOSED);
    CHECK_RC(sled_snapshot_close(s), SLED_ERR_CLOSED);
    CHECK_RC(sled_snapshot_close(s2), SLED_ERR_CLOSED);
    FAILS(sled_snapshot_open(db2, &s, &err), SLED_ERR_CLOSED);
}

// ---- threads: several threads on one database handle -------------------

enum { THREADS = 8, PER_THREAD = 2000 };

struct worker {
    sled_db *db;
    int id;
    int errors;
};

static void *work(void *arg) {
    struct worker *w = arg;
    sled_tree *t;
    char *err = NULL;
    if (sled_default_tree(w->db, &t, &err) != SLED_OK) {
        w->errors++;
        sled_free(err);
        return NULL;
    }
    char k[32], v[32];
    for (int i = 0; i < PER_THREAD; i++) {
        int kn = snprintf(k, sizeof k, "t%d/%06d", w->id, i);
        int vn = snprintf(v, sizeof v, "v%d", i);
        if (sled_insert(t, (uint8_t *)k, kn, (uint8_t *)v, vn, NULL, NULL, NULL) != SLED_OK) w->errors++;
        uint8_t *got;
        size_t gn;
        if (sled_get(t, (uint8_t *)k, kn, &got, &gn, NULL) != SLED_OK || gn != (size_t)vn ||
            memcmp(got, v, gn) != 0) {
            w->errors++;
        }
        sled_free(got);
        if (i % 500 == 499) {
            // Iterate our own prefix: exactly the keys written so far.
            char p[16];
            int pn = snprintf(p, sizeof p, "t%d/", w->id);
            sled_iter *it;
            if (sled_iter_prefix(t, (uint8_t *)p, pn, 0, &it, NULL) != SLED_OK) {
                w->errors++;
                continue;
            }
            int seen = 0;
            while (sled_iter_next(it, NULL, NULL, NULL, NULL, NULL) == SLED_OK) seen++;
            if (seen != i + 1) w->errors++;
            sled_iter_close(it);
            if (sled_flush(w->db, NULL) != SLED_OK) w->errors++;
        }
    }
    sled_tree_close(t);
    return NULL;
}

static void test_threads(void) {
    sled_db *db;
    OK(sled_open_path(path("threads"), &db, &err));
    pthread_t th[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.db = db, .id = i};
        CHECK(pthread_create(&th[i], NULL, work, &w[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        CHECK(w[i].errors == 0);
    }
    sled_tree *t;
    OK(sled_default_tree(db, &t, &err));
    uint64_t count;
    OK(sled_len(t, &count, &err));
    CHECK(count == THREADS * PER_THREAD);
    OK(sled_close(db, &err));
}

// A thread closes the database while others use it: every call returns a
// status (OK before the close, CLOSED after), none crashes.
static void *hammer(void *arg) {
    struct worker *w = arg;
    sled_tree *t;
    if (sled_default_tree(w->db, &t, NULL) != SLED_OK) return NULL;
    for (int i = 0; i < 100000; i++) {
        int rc = sled_insert(t, (const uint8_t *)"k", 1, (const uint8_t *)"v", 1, NULL, NULL, NULL);
        if (rc == SLED_ERR_CLOSED) return NULL;
        if (rc != SLED_OK) {
            w->errors++;
            return NULL;
        }
    }
    return NULL;
}

static void test_close_race(void) {
    sled_db *db;
    OK(sled_open_path(path("race"), &db, &err));
    pthread_t th[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){.db = db, .id = i};
        pthread_create(&th[i], NULL, hammer, &w[i]);
    }
    usleep(20000);
    OK(sled_close(db, &err));
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK(w[i].errors == 0);
    }
}

// ---- transactions on several threads -----------------------------------

enum { TX_THREADS = 8, TX_INCREMENTS = 150 };

struct tx_worker {
    sled_db *db;
    sled_tree *t;
    int errors;
    int conflicts;
};

static void *tx_work(void *arg) {
    struct tx_worker *w = arg;
    for (int i = 0; i < TX_INCREMENTS; i++) {
        int rc = tx_increment(w->db, w->t, "ctr", &w->conflicts);
        if (rc != SLED_OK) {
            fprintf(stderr, "tx_increment: %s\n", sled_strerror(rc));
            w->errors++;
        }
    }
    return NULL;
}

// Threads each run a retry loop of read-increment-write transactions on
// one counter: the final value is exact (no lost update), so commits were
// serializable and conflicts were reported, never swallowed.
static void test_tx_threads(void) {
    sled_db *db;
    OK(sled_open_path(path("txthreads"), &db, &err));
    sled_tree *t;
    OK(sled_default_tree(db, &t, &err));
    pthread_t th[TX_THREADS];
    struct tx_worker w[TX_THREADS];
    for (int i = 0; i < TX_THREADS; i++) {
        w[i] = (struct tx_worker){.db = db, .t = t};
        CHECK(pthread_create(&th[i], NULL, tx_work, &w[i]) == 0);
    }
    int conflicts = 0;
    for (int i = 0; i < TX_THREADS; i++) {
        pthread_join(th[i], NULL);
        CHECK(w[i].errors == 0);
        conflicts += w[i].conflicts;
    }
    uint8_t *v;
    size_t n;
    OK(sled_get(t, B("ctr"), &v, &n, &err));
    char want[32];
    snprintf(want, sizeof want, "%d", TX_THREADS * TX_INCREMENTS);
    CHECK(eq(v, n, want));
    if (!eq(v, n, want)) fprintf(stderr, "counter = %.*s, want %s\n", (int)n, (const char *)v, want);
    sled_free(v);
    printf("tx threads: %d commits, %d conflicts retried\n", TX_THREADS * TX_INCREMENTS, conflicts);
    OK(sled_close(db, &err));
}

// One sled_tx shared by several threads (misuse, but documented as safe:
// its calls are serialized): every write lands, the commit has them all.
struct shared_tx {
    sled_tx *tx;
    sled_tree *t;
    int id;
    int errors;
};

static void *shared_tx_work(void *arg) {
    struct shared_tx *w = arg;
    for (int i = 0; i < 300; i++) {
        char k[32];
        int kn = snprintf(k, sizeof k, "shared/%d/%03d", w->id, i);
        if (sled_tx_insert(w->tx, w->t, (uint8_t *)k, kn, (uint8_t *)k, kn, NULL) != SLED_OK) w->errors++;
        uint8_t *v;
        size_t n;
        if (sled_tx_get(w->tx, w->t, (uint8_t *)k, kn, &v, &n, NULL) != SLED_OK || n != (size_t)kn) w->errors++;
        sled_free(v);
    }
    return NULL;
}

static void test_tx_shared(void) {
    sled_db *db;
    OK(sled_open_path(path("txshared"), &db, &err));
    sled_tree *t;
    OK(sled_default_tree(db, &t, &err));
    sled_tx *tx;
    OK(sled_tx_begin(db, &tx, &err));
    pthread_t th[4];
    struct shared_tx w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct shared_tx){.tx = tx, .t = t, .id = i};
        CHECK(pthread_create(&th[i], NULL, shared_tx_work, &w[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK(w[i].errors == 0);
    }
    OK(sled_tx_commit(tx, &err));
    uint64_t count = 0;
    OK(sled_len(t, &count, &err));
    CHECK(count == 4 * 300);
    OK(sled_close(db, &err));
}

// Transactions racing with sled_close: every call returns a status (OK or
// a conflict before the close, CLOSED after), none crashes or leaks.
static void *tx_hammer(void *arg) {
    struct worker *w = arg;
    sled_tree *t;
    if (sled_default_tree(w->db, &t, NULL) != SLED_OK) return NULL;
    for (int i = 0; i < 100000; i++) {
        int conflicts = 0;
        int rc = tx_increment(w->db, t, "race", &conflicts);
        if (rc == SLED_ERR_CLOSED) return NULL;
        if (rc != SLED_OK) {
            fprintf(stderr, "tx_hammer: %s\n", sled_strerror(rc));
            w->errors++;
            return NULL;
        }
    }
    return NULL;
}

static void test_tx_close_race(void) {
    sled_db *db;
    OK(sled_open_path(path("txrace"), &db, &err));
    pthread_t th[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){.db = db, .id = i};
        pthread_create(&th[i], NULL, tx_hammer, &w[i]);
    }
    usleep(20000);
    OK(sled_close(db, &err));
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK(w[i].errors == 0);
    }
}

int main(void) {
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    test_version();
    test_config();

    sled_db *db;
    OK(sled_open_path(path("main"), &db, &err));
    sled_tree *t;
    OK(sled_default_tree(db, &t, &err));
    test_point(t);
    test_cas(t);
    test_merge(db, t);
    test_ordered(db);
    test_batch(t);
    test_iter(db);
    test_trees(db);
    test_db_misc(db, t);
    test_tx_basic(db, t);
    test_tx_conflict(db, t);
    test_tx_iter(db);
    test_tx_errors(db, t);
    test_tx_too_large(db, t);
    test_snapshot(db, t);
    CHECK_RC(sled_tree_close(t), SLED_OK);
    OK(sled_close(db, &err));

    test_handles();
    test_threads();
    test_close_race();
    test_tx_threads();
    test_tx_shared();
    test_tx_close_race();

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", tmpdir);
    if (failures) {
        fprintf(stderr, "sled_test: %d failure(s)\n", failures);
        return 1;
    }
    printf("sled_test: all passed\n");
    return 0;
}
