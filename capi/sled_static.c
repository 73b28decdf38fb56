// The parts of the C API that need no Go: version, status descriptions,
// sled_free, and the trampoline through which Go calls a merge callback.
#include <stdlib.h>
#include <string.h>

#include "sled.h"

uint32_t sled_version(void) { return SLED_VERSION; }

const char *sled_strerror(int status) {
    switch (status) {
    case SLED_OK: return "ok";
    case SLED_NOT_FOUND: return "not found";
    case SLED_ERR_INVALID_ARGUMENT: return "invalid argument";
    case SLED_ERR_CLOSED: return "closed";
    case SLED_ERR_CORRUPTION: return "corruption";
    case SLED_ERR_LOCKED: return "database is locked by another opener";
    case SLED_ERR_EXISTS: return "database already exists";
    case SLED_ERR_KEY_TOO_LARGE: return "key too large";
    case SLED_ERR_VALUE_TOO_LARGE: return "value too large";
    case SLED_ERR_TREE_NOT_FOUND: return "tree not found";
    case SLED_ERR_NO_MERGE_OPERATOR: return "no merge operator set";
    case SLED_ERR_CAS_MISMATCH: return "compare and swap: current value differs";
    case SLED_ERR_CONFLICT: return "transaction conflict";
    case SLED_ERR_TX_TOO_LARGE: return "transaction too large";
    case SLED_ERR_IO: return "I/O error";
    case SLED_ERR_INVALID_CONFIG: return "invalid config";
    case SLED_ERR_MERGE_FAILED: return "merge callback failed";
    case SLED_ERR_INTERNAL: return "internal error";
    case SLED_ERR_SNAPSHOT_EXPIRED: return "snapshot expired";
    }
    return "unknown status";
}

void sled_free(void *p) { free(p); }

// sled__call_merge calls a C merge callback for Go (cgo cannot call a C
// function pointer directly). Declared in merge.go's preamble.
int sled__call_merge(sled_merge_fn fn, void *ctx,
                     const uint8_t *key, size_t key_len,
                     const uint8_t *old, size_t old_len,
                     const uint8_t *operand, size_t operand_len,
                     uint8_t **out, size_t *out_len) {
    return fn(ctx, key, key_len, old, old_len, operand, operand_len, out, out_len);
}

// Implemented in Go (tree.go, tx.go, snapshot.go); not part of sled.h.
int sled__get(sled_tree *t, const uint8_t *key, size_t key_len, uint8_t *scratch,
              size_t scratch_len, uint8_t **big, size_t *val_len, char **err);
int sled__tx_get(sled_tx *tx, sled_tree *t, const uint8_t *key, size_t key_len,
                 uint8_t *scratch, size_t scratch_len, uint8_t **big, size_t *val_len,
                 char **err);
int sled__snapshot_get(sled_snapshot *s, sled_tree *t, const uint8_t *key, size_t key_len,
                       uint8_t *scratch, size_t scratch_len, uint8_t **big,
                       size_t *val_len, char **err);

// The gets let Go copy a small value into a stack buffer and allocate the
// result here, which is cheaper than Go calling malloc through cgo: one
// cgo transition per call instead of two.
enum { SCRATCH = 256 };

// bad_output reports NULL val or val_len (before any Go call).
static int bad_output(char **err) {
    static const char msg[] = "sled: invalid argument: val or val_len is NULL";
    if (err != NULL) {
        *err = malloc(sizeof msg);
        if (*err == NULL) abort();
        memcpy(*err, msg, sizeof msg);
    }
    return SLED_ERR_INVALID_ARGUMENT;
}

// finish_get hands the result of a sled__*get to the caller: big when Go
// allocated it, else a malloc'd copy of the n bytes in scratch.
static int finish_get(int rc, const uint8_t *scratch, uint8_t *big, size_t n,
                      uint8_t **val, size_t *val_len) {
    *val = NULL;
    *val_len = 0;
    if (rc != SLED_OK) return rc;
    if (big == NULL) {
        big = malloc(n ? n : 1);
        if (big == NULL) abort(); // as Go's C.malloc does
        memcpy(big, scratch, n);
    }
    *val = big;
    *val_len = n;
    return SLED_OK;
}

int sled_get(sled_tree *t, const uint8_t *key, size_t key_len,
             uint8_t **val, size_t *val_len, char **err) {
    if (val == NULL || val_len == NULL) return bad_output(err);
    uint8_t scratch[SCRATCH];
    uint8_t *big = NULL;
    size_t n = 0;
    int rc = sled__get(t, key, key_len, scratch, sizeof scratch, &big, &n, err);
    return finish_get(rc, scratch, big, n, val, val_len);
}

int sled_tx_get(sled_tx *tx, sled_tree *t, const uint8_t *key, size_t key_len,
                uint8_t **val, size_t *val_len, char **err) {
    if (val == NULL || val_len == NULL) return bad_output(err);
    uint8_t scratch[SCRATCH];
    uint8_t *big = NULL;
    size_t n = 0;
    int rc = sled__tx_get(tx, t, key, key_len, scratch, sizeof scratch, &big, &n, err);
    return finish_get(rc, scratch, big, n, val, val_len);
}

int sled_snapshot_get(sled_snapshot *s, sled_tree *t, const uint8_t *key, size_t key_len,
                      uint8_t **val, size_t *val_len, char **err) {
    if (val == NULL || val_len == NULL) return bad_output(err);
    uint8_t scratch[SCRATCH];
    uint8_t *big = NULL;
    size_t n = 0;
    int rc = sled__snapshot_get(s, t, key, key_len, scratch, sizeof scratch, &big, &n, err);
    return finish_get(rc, scratch, big, n, val, val_len);
}
