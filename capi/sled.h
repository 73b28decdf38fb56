/*
 * sled.h - the C API of sled for Go (github.com/sledgo/sled).
 *
 * An embedded key-value database: ordered maps ("trees") from byte-string
 * keys to byte-string values, durable on disk, safe for many threads.
 * Build the library with
 *
 *     go build -buildmode=c-shared -o libsled.so ./capi     (or c-archive -> libsled.a)
 *
 * and compile against this header (C99 or C++). The library embeds the Go
 * runtime; nothing else is needed at run time.
 *
 * CONVENTIONS (they hold for every function unless its comment says otherwise)
 *
 *  1. Status. Every function returns an int status: SLED_OK (0) on success,
 *     SLED_NOT_FOUND (1) when a looked-up entry is absent (not an error), or
 *     one of the SLED_ERR_* codes below. sled_strerror() describes a code.
 *
 *  2. Error messages. Every function that can fail for a reason beyond its
 *     arguments takes a last parameter `char **err`. Pass NULL to ignore it.
 *     Otherwise *err is set to NULL on SLED_OK / SLED_NOT_FOUND and to a
 *     NUL-terminated message on an error, which the caller frees with
 *     sled_free(). (Per call, so it is thread-safe: there is no global or
 *     per-handle "last error".)
 *
 *  3. Memory. Every buffer the library returns (values, keys, messages, the
 *     tree-name list) is allocated with malloc, belongs to the caller and is
 *     freed with sled_free() (free() is equivalent). Buffers the caller passes
 *     in are only read during the call and never retained.
 *
 *  4. Bytes. A byte string is a (pointer, length) pair; the empty string is
 *     valid. For a required input (key, value) NULL with length 0 is the empty
 *     string; NULL with a nonzero length is SLED_ERR_INVALID_ARGUMENT. For an
 *     optional input (compare-and-swap's old/new, range bounds) NULL means
 *     "absent" / "unbounded" and a non-NULL pointer with length 0 means the
 *     empty string. On output, an absent value is a NULL pointer with length
 *     0 and a present one (even empty) is a non-NULL pointer to free. Output
 *     pointers marked "optional" may be NULL when the caller does not want
 *     that result (nothing is allocated for it then).
 *
 *  5. Handles. sled_db, sled_tree, sled_iter, sled_batch, sled_config,
 *     sled_tx and sled_snapshot are opaque handles (registry numbers, never
 *     addresses: no Go pointer is ever given to C). A NULL handle gives
 *     SLED_ERR_INVALID_ARGUMENT, and so does a handle of the wrong kind or a
 *     tree of another database than the transaction or snapshot it is used
 *     with; a handle that was closed or freed gives SLED_ERR_CLOSED (handle
 *     numbers are never reused, so a stale handle is always detected, never
 *     a crash). Closing a sled_db also releases every sled_tree, sled_iter,
 *     sled_tx and sled_snapshot opened from it; closing those afterwards
 *     returns SLED_ERR_CLOSED harmlessly.
 *
 *  6. Threads. sled_db, sled_tree and sled_snapshot handles may be used by
 *     many threads at once; single-key operations are linearizable. A
 *     sled_iter, sled_batch, sled_config or sled_tx is meant for one thread
 *     at a time (calls on it are serialized internally, so misuse is slow,
 *     not unsafe).
 *
 *  7. Limits. Keys up to SLED_MAX_KEY_BYTES, values up to
 *     SLED_MAX_VALUE_BYTES, tree names up to SLED_MAX_TREE_NAME_BYTES;
 *     beyond them a call returns SLED_ERR_KEY_TOO_LARGE /
 *     SLED_ERR_VALUE_TOO_LARGE and changes nothing.
 *
 *  8. Durability. sled_flush() makes every write that returned before it was
 *     called durable; without it writes become durable within the flush
 *     interval (500 ms by default). After a crash the database holds a prefix
 *     of the completed writes; batches are all or nothing.
 *
 * ABI STABILITY. Within a major version functions are only added, status
 * codes only appended, and structs passed by pointer carry their own size
 * (sled_stats.struct_size), so a program built against an older header keeps
 * working with a newer library. Check agreement at run time with
 * SLED_VERSION_OK().
 *
 * Version 0.2 added transactions (sled_tx_*), snapshots (sled_snapshot_*)
 * and SLED_ERR_SNAPSHOT_EXPIRED.
 */
#ifndef SLED_H
#define SLED_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* SLED_NO_PROTOTYPES is defined only where the library itself is compiled:
 * cgo declares the Go functions without const qualifiers, which C would
 * see as conflicting declarations. The ABI is the same. */

/* ---- Version ---------------------------------------------------------- */

#define SLED_VERSION_MAJOR 0
#define SLED_VERSION_MINOR 2
#define SLED_VERSION_PATCH 0
/* The header's version as one number: major << 16 | minor << 8 | patch. */
#define SLED_VERSION \
    ((SLED_VERSION_MAJOR << 16) | (SLED_VERSION_MINOR << 8) | SLED_VERSION_PATCH)

/* The library's version, encoded as SLED_VERSION. */
uint32_t sled_version(void);

/* True when the loaded library can serve a program built with this header:
 * same major version and a minor version at least the header's. */
#define SLED_VERSION_OK()                                      \
    ((sled_version() >> 16) == SLED_VERSION_MAJOR &&           \
     ((sled_version() >> 8) & 0xff) >= SLED_VERSION_MINOR)

/* ---- Status codes (stable numbers; new ones are only appended) -------- */

enum {
    SLED_OK = 0,
    SLED_NOT_FOUND = 1,               /* the entry is absent (not an error) */
    SLED_ERR_INVALID_ARGUMENT = 2,    /* NULL handle or output, NULL bytes with a length, bad option */
    SLED_ERR_CLOSED = 3,              /* the handle or its database was closed */
    SLED_ERR_CORRUPTION = 4,          /* a checksum or structure check failed */
    SLED_ERR_LOCKED = 5,              /* another opener holds the database */
    SLED_ERR_EXISTS = 6,              /* create_new and a database exists */
    SLED_ERR_KEY_TOO_LARGE = 7,       /* key (or tree name) over the limit */
    SLED_ERR_VALUE_TOO_LARGE = 8,     /* value over the limit */
    SLED_ERR_TREE_NOT_FOUND = 9,      /* no such tree, or it was dropped */
    SLED_ERR_NO_MERGE_OPERATOR = 10,  /* sled_merge on a tree without one */
    SLED_ERR_CAS_MISMATCH = 11,       /* compare-and-swap found another value */
    SLED_ERR_CONFLICT = 12,           /* transaction conflict: begin it again */
    SLED_ERR_TX_TOO_LARGE = 13,       /* transaction over SLED_MAX_TX_BYTES / _OPS */
    SLED_ERR_IO = 14,                 /* the operating system reported an error */
    SLED_ERR_INVALID_CONFIG = 15,     /* the configuration is invalid */
    SLED_ERR_MERGE_FAILED = 16,       /* the merge callback returned failure */
    SLED_ERR_INTERNAL = 17,           /* a bug in the library; the message says where */
    SLED_ERR_SNAPSHOT_EXPIRED = 18    /* the snapshot's versions exceeded the limit: take a new one */
};

/* A static, never-freed description of a status code ("unknown status" for
 * a code this library does not know). */
const char *sled_strerror(int status);

/* Frees a buffer returned by the library. NULL is a no-op. */
void sled_free(void *p);

/* ---- Limits ----------------------------------------------------------- */

#define SLED_MAX_KEY_BYTES (64u << 10)
#define SLED_MAX_VALUE_BYTES (64u << 20)
#define SLED_MAX_TREE_NAME_BYTES (1u << 10)
/* Bounds of one transaction: the key and value bytes it writes plus the key
 * bytes it reads, and its reads and writes (each call counts one). */
#define SLED_MAX_TX_BYTES (512u << 20)
#define SLED_MAX_TX_OPS (1u << 22)

/* ---- Handles ---------------------------------------------------------- */

typedef struct sled_config sled_config;
typedef struct sled_db sled_db;
typedef struct sled_tree sled_tree;
typedef struct sled_iter sled_iter;
typedef struct sled_batch sled_batch;
typedef struct sled_tx sled_tx;
typedef struct sled_snapshot sled_snapshot;

/* ---- Configuration ---------------------------------------------------- */

enum {
    SLED_MODE_LOW_SPACE = 0,       /* clean the log eagerly (default) */
    SLED_MODE_HIGH_THROUGHPUT = 1  /* tolerate more garbage, rewrite less */
};

/* A new configuration with every default (no path). Free with sled_config_free. */
#ifndef SLED_NO_PROTOTYPES
int sled_config_new(sled_config **out);
/* Releases the configuration (databases opened with it are unaffected). */
int sled_config_free(sled_config *cfg);
/* Directory of the database (NUL-terminated, copied). */
int sled_config_set_path(sled_config *cfg, const char *path);
/* Nonzero: remove the files on close; with no path, a fresh temp directory. */
int sled_config_set_temporary(sled_config *cfg, int temporary);
/* Nonzero: sled_open fails with SLED_ERR_EXISTS if a database exists. */
int sled_config_set_create_new(sled_config *cfg, int create_new);
/* Bound on memory for cached pages; 0 = default (1 GiB). */
int sled_config_set_cache_capacity(sled_config *cfg, int64_t bytes);
/* Background flush period in milliseconds; 0 = default (500), < 0 = never. */
int sled_config_set_flush_every_ms(sled_config *cfg, int64_t ms);
/* zstd compression of what goes to disk; level 0 = default, else 1..22. */
int sled_config_set_compression(sled_config *cfg, int enabled, int level);
/* SLED_MODE_LOW_SPACE or SLED_MODE_HIGH_THROUGHPUT. */
int sled_config_set_mode(sled_config *cfg, int mode);
/* Log segment size in bytes; 0 = default (8 MiB), else 64 KiB..1 GiB. */
int sled_config_set_segment_size(sled_config *cfg, int64_t bytes);

/* ---- Database --------------------------------------------------------- */

/* Opens (or creates) the database cfg describes. Invalid settings give
 * SLED_ERR_INVALID_CONFIG (the message lists every problem); a directory
 * another opener holds gives SLED_ERR_LOCKED. */
int sled_open(const sled_config *cfg, sled_db **out, char **err);
/* sled_open with the default configuration for directory path. */
int sled_open_path(const char *path, sled_db **out, char **err);
/* Flushes and closes the database and releases the handle, with every tree
 * and iterator handle opened from it. The status reports the final flush;
 * the handle is released either way. */
int sled_close(sled_db *db, char **err);
/* Makes every write that returned before this call durable (group commit:
 * concurrent flushes share one fsync). */
int sled_flush(sled_db *db, char **err);
/* A unique id, increasing also across restarts and crashes. */
int sled_generate_id(sled_db *db, uint64_t *id, char **err);
/* Bytes of all the database's files. */
int sled_size_on_disk(sled_db *db, int64_t *bytes, char **err);
/* Sets *recovered to 1 when sled_open found an existing database, else 0. */
int sled_was_recovered(sled_db *db, int *recovered, char **err);
/* CRC32 over every tree's contents in order (not atomic under writes). */
int sled_checksum(sled_db *db, uint32_t *crc, char **err);
/* Writes a portable, versioned, checksummed dump of all trees to the file
 * path (created or truncated, fsynced). */
int sled_export(sled_db *db, const char *path, char **err);
/* Inserts the entries of a dump written by sled_export, creating trees as
 * needed. A damaged dump gives SLED_ERR_CORRUPTION; entries read before
 * the damage stay inserted. */
int sled_import(sled_db *db, const char *path, char **err);
#endif

/* Counters of the database. The caller sets struct_size = sizeof(sled_stats)
 * before the call; the library fills the fields that fit in struct_size
 * (so fields are only ever appended). Byte counts are of the database's
 * files; ratios are 0 when undefined. */
typedef struct sled_stats {
    size_t struct_size;
    int64_t trees;
    int64_t pages;
    int64_t cache_bytes;
    int64_t cache_hits;
    int64_t cache_misses;
    double cache_hit_ratio;
    int64_t evictions;
    int64_t page_updates;
    int64_t page_images;
    int64_t page_fragments;
    int64_t live_bytes;
    int64_t disk_bytes;
    double space_amplification;
    int64_t user_bytes_written;
    int64_t engine_bytes_written;
    double write_amplification;
    double compression_ratio;
    int64_t log_syncs;
    int64_t segments_active;
    int64_t segments_sealed;
    int64_t segments_cleaned;
    int64_t pages_relocated;
} sled_stats;
#ifndef SLED_NO_PROTOTYPES
int sled_stats_get(sled_db *db, sled_stats *stats, char **err);

/* ---- Trees ------------------------------------------------------------ */

/* A handle to the default tree (the one every database has). Release it
 * with sled_tree_close (which does not touch the data). */
int sled_default_tree(sled_db *db, sled_tree **out, char **err);
/* A handle to the tree called name (any bytes), creating it if absent. */
int sled_open_tree(sled_db *db, const char *name, size_t name_len, sled_tree **out, char **err);
/* Removes the tree and all its contents. SLED_ERR_TREE_NOT_FOUND if absent;
 * the default tree cannot be dropped (SLED_ERR_INVALID_ARGUMENT). Handles
 * to it then return SLED_ERR_TREE_NOT_FOUND. */
int sled_drop_tree(sled_db *db, const char *name, size_t name_len, char **err);
/* The names of all trees, sorted, the default tree included: *names is an
 * array of *count NUL-terminated strings, all in one allocation, freed with
 * a single sled_free(*names). (Names may contain NUL bytes; such a name is
 * cut short here.) */
int sled_tree_names(sled_db *db, char ***names, size_t *count, char **err);
/* Releases a tree handle. Does not change the tree. */
int sled_tree_close(sled_tree *t);
/* The tree's name as a malloc'd NUL-terminated string (length in *len, optional). */
int sled_tree_name(sled_tree *t, char **name, size_t *len, char **err);

/* ---- Point operations ------------------------------------------------- */

/* SLED_OK and the value in (*val, *val_len), or SLED_NOT_FOUND with
 * *val = NULL. val and val_len are required. */
int sled_get(sled_tree *t, const uint8_t *key, size_t key_len,
             uint8_t **val, size_t *val_len, char **err);
/* *found = 1 when key is present, else 0. */
int sled_contains(sled_tree *t, const uint8_t *key, size_t key_len, int *found, char **err);
/* Sets key to val. The previous value goes to (*prev, *prev_len) (NULL when
 * absent); prev and prev_len are optional. */
int sled_insert(sled_tree *t, const uint8_t *key, size_t key_len,
                const uint8_t *val, size_t val_len,
                uint8_t **prev, size_t *prev_len, char **err);
/* Removes key (absent is fine). The removed value goes to prev (optional). */
int sled_remove(sled_tree *t, const uint8_t *key, size_t key_len,
                uint8_t **prev, size_t *prev_len, char **err);
/* Atomically: if key's value equals old (old == NULL: key absent), set it
 * to new (new == NULL: remove it). On a mismatch nothing changes, the status
 * is SLED_ERR_CAS_MISMATCH and the value found goes to (*current,
 * *current_len) (NULL when absent; optional). */
int sled_compare_and_swap(sled_tree *t, const uint8_t *key, size_t key_len,
                          const uint8_t *old, size_t old_len,
                          const uint8_t *new_val, size_t new_len,
                          uint8_t **current, size_t *current_len, char **err);
#endif

/* ---- Merge operators -------------------------------------------------- */

/* Return values of a merge callback. */
enum {
    SLED_MERGE_SET = 0,    /* the new value is (*out, *out_len) */
    SLED_MERGE_DELETE = 1  /* remove the key */
    /* anything else: failure; the key keeps its value and sled_merge
     * returns SLED_ERR_MERGE_FAILED */
};

/* Combines key's current value (old == NULL: absent; a present empty value
 * is non-NULL with old_len 0) with an operand. For SLED_MERGE_SET it sets
 * *out to a buffer allocated with malloc (the library frees it) or NULL for
 * an empty value, and *out_len to its length. The input pointers are valid
 * only during the call. It may run more than once per sled_merge and
 * concurrently on several threads, so it must be pure and thread-safe. */
typedef int (*sled_merge_fn)(void *ctx,
                             const uint8_t *key, size_t key_len,
                             const uint8_t *old, size_t old_len,
                             const uint8_t *operand, size_t operand_len,
                             uint8_t **out, size_t *out_len);

/* Sets the tree's merge operator (fn == NULL unsets it). ctx is passed to
 * every call and must stay valid until the operator is replaced or the
 * database closed. The operator belongs to the tree (every handle to it
 * sees it) and is not persisted: set it again after every open. */
#ifndef SLED_NO_PROTOTYPES
int sled_set_merge_operator(sled_tree *t, sled_merge_fn fn, void *ctx, char **err);
/* Applies the merge operator to key's value and operand atomically. The new
 * value goes to (*new_val, *new_len) (NULL when the operator deleted the
 * key; optional). */
int sled_merge(sled_tree *t, const uint8_t *key, size_t key_len,
               const uint8_t *operand, size_t operand_len,
               uint8_t **new_val, size_t *new_len, char **err);

/* ---- Ordered reads ---------------------------------------------------- */
/* Each returns SLED_OK with the entry in (*key, *key_len, *val, *val_len),
 * or SLED_NOT_FOUND with NULL outputs. The outputs are optional. */

/* The smallest entry. */
int sled_first(sled_tree *t, uint8_t **key, size_t *key_len, uint8_t **val, size_t *val_len, char **err);
/* The greatest entry. */
int sled_last(sled_tree *t, uint8_t **key, size_t *key_len, uint8_t **val, size_t *val_len, char **err);
/* The entry with the greatest key < bound. */
int sled_get_lt(sled_tree *t, const uint8_t *bound, size_t bound_len,
                uint8_t **key, size_t *key_len, uint8_t **val, size_t *val_len, char **err);
/* The entry with the smallest key > bound. */
int sled_get_gt(sled_tree *t, const uint8_t *bound, size_t bound_len,
                uint8_t **key, size_t *key_len, uint8_t **val, size_t *val_len, char **err);
/* Atomically removes and returns the smallest entry. */
int sled_pop_min(sled_tree *t, uint8_t **key, size_t *key_len, uint8_t **val, size_t *val_len, char **err);
/* Atomically removes and returns the greatest entry. */
int sled_pop_max(sled_tree *t, uint8_t **key, size_t *key_len, uint8_t **val, size_t *val_len, char **err);
/* The number of entries (walks the tree). */
int sled_len(sled_tree *t, uint64_t *count, char **err);
/* Removes every entry (not atomic under concurrent writes). */
int sled_clear(sled_tree *t, char **err);

/* ---- Batches ---------------------------------------------------------- */

/* An empty batch: writes collected here are applied atomically (all or
 * nothing, also across a crash) by sled_apply_batch. Free with
 * sled_batch_free; a batch can be applied several times. */
int sled_batch_new(sled_batch **out);
int sled_batch_free(sled_batch *b);
/* Adds key = val (copied). Later operations on the same key win. */
int sled_batch_insert(sled_batch *b, const uint8_t *key, size_t key_len,
                      const uint8_t *val, size_t val_len, char **err);
/* Adds a removal of key (copied). */
int sled_batch_remove(sled_batch *b, const uint8_t *key, size_t key_len, char **err);
/* The number of operations in the batch. */
int sled_batch_len(sled_batch *b, size_t *count);
/* Applies every operation of b to t atomically. */
int sled_apply_batch(sled_tree *t, sled_batch *b, char **err);

/* ---- Iterators -------------------------------------------------------- */
/* An iterator walks a key range in order (descending when reverse != 0).
 * Over a live tree it returns keys in strict order, each once, and every
 * key present and unchanged for the whole iteration. Typical use:
 *
 *     sled_iter *it;
 *     if (sled_iter_prefix(t, (const uint8_t *)"user/", 5, 0, &it, &err) != SLED_OK) ...
 *     uint8_t *k, *v; size_t kn, vn; int rc;
 *     while ((rc = sled_iter_next(it, &k, &kn, &v, &vn, &err)) == SLED_OK) {
 *         use(k, kn, v, vn);
 *         sled_free(k); sled_free(v);
 *     }
 *     if (rc != SLED_NOT_FOUND) ... error in err ...
 *     sled_iter_close(it);
 */

/* Entries with lo <= key < hi; lo == NULL: from the start, hi == NULL: to
 * the end. */
int sled_iter_range(sled_tree *t, const uint8_t *lo, size_t lo_len,
                    const uint8_t *hi, size_t hi_len, int reverse,
                    sled_iter **out, char **err);
/* Entries whose key starts with prefix (NULL with length 0: all). */
int sled_iter_prefix(sled_tree *t, const uint8_t *prefix, size_t prefix_len,
                     int reverse, sled_iter **out, char **err);
/* Advances: SLED_OK when positioned at an entry (copied to the optional
 * outputs), SLED_NOT_FOUND at the end (and every later call), else an error
 * that also ends the iteration. */
int sled_iter_next(sled_iter *it, uint8_t **key, size_t *key_len,
                   uint8_t **val, size_t *val_len, char **err);
/* A copy of the current key / value; SLED_NOT_FOUND when not positioned at
 * an entry (before the first next or after the end). */
int sled_iter_key(sled_iter *it, uint8_t **key, size_t *key_len);
int sled_iter_value(sled_iter *it, uint8_t **val, size_t *val_len);
/* Releases the iterator. */
int sled_iter_close(sled_iter *it);

/* ---- Transactions ----------------------------------------------------- */
/* A serializable read-write transaction over any trees of one database,
 * driven by hand: begin, read and write through the sled_tx, then commit or
 * abort. Reads see the transaction's own writes; writes are buffered and
 * become visible at commit, all or none (also across a crash; durable after
 * the next sled_flush). The commit checks that everything the transaction
 * read is unchanged; if not it writes nothing and returns SLED_ERR_CONFLICT,
 * and the caller begins again (there is no automatic retry):
 *
 *     for (;;) {
 *         sled_tx *tx;
 *         if (sled_tx_begin(db, &tx, &err) != SLED_OK) ... error in err ...
 *         rc = sled_tx_get(tx, t, key, key_len, &v, &vn, &err);  (SLED_OK or SLED_NOT_FOUND)
 *         ... sled_tx_insert / sled_tx_remove; on an error: sled_tx_abort(tx) ...
 *         rc = sled_tx_commit(tx, &err);   (tx is released either way)
 *         if (rc != SLED_ERR_CONFLICT) break;
 *         sled_free(err);                  (then maybe back off a little)
 *     }
 *
 * sled_tx_commit and sled_tx_abort end the transaction and release its
 * handle, whatever they return; the handle is then stale (SLED_ERR_CLOSED),
 * so an error path may call sled_tx_abort unconditionally. sled_close
 * releases unfinished transactions (nothing of them is written). An
 * unfinished transaction holds no lock and blocks no one; it only costs
 * memory.
 *
 * Only sled_tx_commit returns SLED_ERR_CONFLICT in this version; should
 * another tx function return it, abort and begin again likewise. A call
 * that takes the transaction over SLED_MAX_TX_BYTES or SLED_MAX_TX_OPS
 * fails with SLED_ERR_TX_TOO_LARGE, and so does its commit (abort it).
 * Other errors (a key or value over its limit, a NULL key with a length, a
 * tree of another database) fail that call only. The tree of each call may
 * be any tree of the transaction's database.
 *
 * Threads: a sled_tx is for one thread at a time; its calls are serialized
 * internally by a mutex, so sharing one is safe but gives no meaningful
 * order. Any number of transactions may run at once, on any threads;
 * transactions on disjoint keys commit in parallel. */

/* Begins a transaction on db. */
int sled_tx_begin(sled_db *db, sled_tx **out, char **err);
/* SLED_OK and key's value in (*val, *val_len) as the transaction sees it
 * (its own writes first), or SLED_NOT_FOUND with *val = NULL. val and
 * val_len are required. A read joins the transaction's read set: the commit
 * fails with SLED_ERR_CONFLICT if the key changed meanwhile. */
int sled_tx_get(sled_tx *tx, sled_tree *t, const uint8_t *key, size_t key_len,
                uint8_t **val, size_t *val_len, char **err);
/* Sets key to val (copied) in t when the transaction commits. */
int sled_tx_insert(sled_tx *tx, sled_tree *t, const uint8_t *key, size_t key_len,
                   const uint8_t *val, size_t val_len, char **err);
/* Removes key (absent is fine) from t when the transaction commits. */
int sled_tx_remove(sled_tx *tx, sled_tree *t, const uint8_t *key, size_t key_len, char **err);
/* An iterator (see sled_iter_range) over t as the transaction sees it: the
 * tree's entries with the transaction's writes made before this call merged
 * in key order. The entries it returns join the read set (the commit fails
 * with SLED_ERR_CONFLICT if the range read changed). After the transaction
 * ends, sled_iter_next returns SLED_ERR_CLOSED; close it with
 * sled_iter_close. */
int sled_tx_iter_range(sled_tx *tx, sled_tree *t, const uint8_t *lo, size_t lo_len,
                       const uint8_t *hi, size_t hi_len, int reverse,
                       sled_iter **out, char **err);
/* Commits: SLED_OK when every write became visible atomically;
 * SLED_ERR_CONFLICT when something read changed (nothing is written:
 * begin again). Ends the transaction and releases tx in every case. */
int sled_tx_commit(sled_tx *tx, char **err);
/* Ends the transaction without writing anything and releases tx. */
int sled_tx_abort(sled_tx *tx);

/* ---- Snapshots -------------------------------------------------------- */
/* A consistent, read-only view of every tree of the database as of
 * sled_snapshot_open: everything written before it and nothing after. It
 * never conflicts and may be used by many threads at once. While it is
 * open, writes keep the values they overwrite in memory; when those exceed
 * the database's bound (a quarter of the cache, at least 64 MiB) the oldest
 * snapshots expire and their reads return SLED_ERR_SNAPSHOT_EXPIRED. Close
 * snapshots when done. */

/* Takes a snapshot of db. */
int sled_snapshot_open(sled_db *db, sled_snapshot **out, char **err);
/* SLED_OK and key's value in t as of the snapshot, or SLED_NOT_FOUND with
 * *val = NULL. val and val_len are required. */
int sled_snapshot_get(sled_snapshot *s, sled_tree *t, const uint8_t *key, size_t key_len,
                      uint8_t **val, size_t *val_len, char **err);
/* An iterator (see sled_iter_range) over t as of the snapshot. After
 * sled_snapshot_close, sled_iter_next returns SLED_ERR_CLOSED. */
int sled_snapshot_iter_range(sled_snapshot *s, sled_tree *t, const uint8_t *lo, size_t lo_len,
                             const uint8_t *hi, size_t hi_len, int reverse,
                             sled_iter **out, char **err);
/* Releases the snapshot (and the versions it kept). */
int sled_snapshot_close(sled_snapshot *s);
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SLED_H */
