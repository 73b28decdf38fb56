#include <stdio.h>
#include <stdlib.h>
#include "sled.h"

/* Every call returns a status; on an error, err holds a message to free. */
static void check(int rc, char *err) {
    if (rc != SLED_OK) {
        fprintf(stderr, "sled: %s (%s)\n", err ? err : "", sled_strerror(rc));
        sled_free(err);
        exit(1);
    }
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "example.db";
    char *err = NULL;
    sled_db *db;
    sled_tree *t;
    check(sled_open_path(path, &db, &err), err);
    check(sled_default_tree(db, &t, &err), err);

    check(sled_insert(t, (const uint8_t *)"apple", 5, (const uint8_t *)"red", 3, NULL, NULL, &err), err);
    check(sled_insert(t, (const uint8_t *)"apricot", 7, (const uint8_t *)"orange", 6, NULL, NULL, &err), err);

    uint8_t *val;
    size_t len;
    int rc = sled_get(t, (const uint8_t *)"apple", 5, &val, &len, &err);
    if (rc == SLED_OK) {
        printf("apple = %.*s\n", (int)len, (const char *)val);
        sled_free(val);                        /* every returned buffer is yours */
    } else if (rc != SLED_NOT_FOUND) {
        check(rc, err);
    }

    sled_iter *it;                             /* keys starting with "ap", in order */
    check(sled_iter_prefix(t, (const uint8_t *)"ap", 2, 0, &it, &err), err);
    uint8_t *k, *v;
    size_t kn, vn;
    while ((rc = sled_iter_next(it, &k, &kn, &v, &vn, &err)) == SLED_OK) {
        printf("%.*s -> %.*s\n", (int)kn, (const char *)k, (int)vn, (const char *)v);
        sled_free(k);
        sled_free(v);
    }
    if (rc != SLED_NOT_FOUND) check(rc, err);
    sled_iter_close(it);

    sled_batch *b;                             /* atomic, also across a crash */
    check(sled_batch_new(&b), NULL);
    check(sled_batch_insert(b, (const uint8_t *)"cherry", 6, (const uint8_t *)"dark red", 8, &err), err);
    check(sled_batch_remove(b, (const uint8_t *)"apricot", 7, &err), err);
    check(sled_apply_batch(t, b, &err), err);
    sled_batch_free(b);

    /* Set apple to green only if it is still red. */
    rc = sled_compare_and_swap(t, (const uint8_t *)"apple", 5, (const uint8_t *)"red", 3,
                               (const uint8_t *)"green", 5, NULL, NULL, &err);
    if (rc == SLED_ERR_CAS_MISMATCH) {
        printf("apple was changed by someone else\n");
        sled_free(err);
    } else {
        check(rc, err);
    }

    /* A transaction: move cherry to cherries atomically. A conflict (a
       value it read changed before the commit) means: begin again. */
    do {
        sled_tx *tx;
        check(sled_tx_begin(db, &tx, &err), err);
        rc = sled_tx_get(tx, t, (const uint8_t *)"cherry", 6, &val, &len, &err);
        if (rc == SLED_OK) {
            rc = sled_tx_insert(tx, t, (const uint8_t *)"cherries", 8, val, len, &err);
            sled_free(val);
        }
        if (rc == SLED_OK) rc = sled_tx_remove(tx, t, (const uint8_t *)"cherry", 6, &err);
        if (rc == SLED_OK) {
            rc = sled_tx_commit(tx, &err);     /* releases tx, whatever it returns */
        } else {
            sled_tx_abort(tx);
        }
        if (rc == SLED_ERR_CONFLICT) sled_free(err);
    } while (rc == SLED_ERR_CONFLICT);
    if (rc != SLED_NOT_FOUND) check(rc, err);
    check(sled_get(t, (const uint8_t *)"cherries", 8, &val, &len, &err), err);
    printf("cherries = %.*s\n", (int)len, (const char *)val);
    sled_free(val);

    check(sled_flush(db, &err), err);          /* durable from here on */
    sled_tree_close(t);
    check(sled_close(db, &err), err);
    return 0;
}
