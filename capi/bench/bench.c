#define _POSIX_C_SOURCE 200809L
// bench times get, insert and a one-key transaction (begin, get, insert,
// commit) through the C API on a temporary database, with the workload of
// boundary_bench_test.go (Go API) and bindings/python/bench.py: KEYS keys
// of 16 bytes with 100-byte values, in a fixed pseudo-random order.
// Prints ns/op. usage: bench [ops [tx_ops]]
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sled.h"

enum { KEYS = 1000, VALUE_BYTES = 100 };

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

// Key i of the shared workload is "key" + 13 digits of i; operation n
// uses key (n * 7919) % KEYS. Keys are formatted before timing.
static char keys[KEYS][17];

static const uint8_t *key(long n) { return (const uint8_t *)keys[(n * 7919) % KEYS]; }

int main(int argc, char **argv) {
    long ops = argc > 1 ? atol(argv[1]) : 1000000;
    long tx_ops = argc > 2 ? atol(argv[2]) : ops / 4;
    sled_config *cfg;
    sled_db *db;
    sled_tree *t;
    char *err = NULL;
    sled_config_new(&cfg);
    sled_config_set_temporary(cfg, 1);
    if (sled_open(cfg, &db, &err) != SLED_OK || sled_default_tree(db, &t, &err) != SLED_OK) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }
    sled_config_free(cfg);
    uint8_t val[VALUE_BYTES];
    memset(val, 'v', sizeof val);
    for (long i = 0; i < KEYS; i++) {
        snprintf(keys[i], sizeof keys[i], "key%013ld", i);
        sled_insert(t, (const uint8_t *)keys[i], 16, val, sizeof val, NULL, NULL, NULL);
    }

    double start = now_ns();
    long misses = 0;
    for (long i = 0; i < ops; i++) {
        uint8_t *v;
        size_t vn;
        if (sled_get(t, key(i), 16, &v, &vn, NULL) != SLED_OK) misses++;
        sled_free(v);
    }
    double get_ns = (now_ns() - start) / ops;

    start = now_ns();
    for (long i = 0; i < ops; i++) {
        if (sled_insert(t, key(i), 16, val, sizeof val, NULL, NULL, NULL) != SLED_OK) misses++;
    }
    double insert_ns = (now_ns() - start) / ops;

    start = now_ns();
    for (long i = 0; i < tx_ops; i++) {
        sled_tx *tx;
        uint8_t *v;
        size_t vn;
        if (sled_tx_begin(db, &tx, NULL) != SLED_OK) {
            misses++;
            continue;
        }
        if (sled_tx_get(tx, t, key(i), 16, &v, &vn, NULL) != SLED_OK) misses++;
        sled_free(v);
        if (sled_tx_insert(tx, t, key(i), 16, val, sizeof val, NULL) != SLED_OK) misses++;
        if (sled_tx_commit(tx, NULL) != SLED_OK) misses++;
    }
    double tx_ns = (now_ns() - start) / tx_ops;
    if (misses) {
        fprintf(stderr, "bench: %ld failed operations\n", misses);
        return 1;
    }
    printf("c get %.0f\nc insert %.0f\nc tx %.0f\n", get_ns, insert_ns, tx_ns);
    sled_tree_close(t);
    sled_close(db, NULL);
    return 0;
}
