// crash_child writes keys through the C API until it is killed: key%08d =
// val%08d in order, and after every flush it prints the last key index the
// flush covers. The parent (bindings/python/test_crash.py) SIGKILLs it and
// checks that every acknowledged key survived.
#include <stdio.h>
#include <stdlib.h>

#include "sled.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: crash_child DIR\n");
        return 2;
    }
    sled_db *db;
    sled_tree *t;
    char *err = NULL;
    if (sled_open_path(argv[1], &db, &err) != SLED_OK || sled_default_tree(db, &t, &err) != SLED_OK) {
        fprintf(stderr, "crash_child: open: %s\n", err);
        return 1;
    }
    char k[32], v[32];
    for (int i = 0; i < 10000000; i++) {
        int kn = snprintf(k, sizeof k, "key%08d", i);
        int vn = snprintf(v, sizeof v, "val%08d", i);
        if (sled_insert(t, (const uint8_t *)k, kn, (const uint8_t *)v, vn, NULL, NULL, &err) != SLED_OK) {
            fprintf(stderr, "crash_child: insert: %s\n", err);
            return 1;
        }
        if (i % 100 == 99) {
            if (sled_flush(db, &err) != SLED_OK) {
                fprintf(stderr, "crash_child: flush: %s\n", err);
                return 1;
            }
            printf("%d\n", i);
            fflush(stdout);
        }
    }
    return 0;
}
