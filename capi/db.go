package main

/*
#define SLED_NO_PROTOTYPES 1
#include "sled.h"
#include <stdlib.h>
#include <string.h>
*/
import "C"

import (
	"bufio"
	"errors"
	"os"
	"runtime/cgo"
	"unsafe"

	"github.com/sledgo/sled"
)

// dbOf returns the database handle db names.
func dbOf(db *C.sled_db) (*dbObj, error) { return lookup[*dbObj](ptrHandle(unsafe.Pointer(db))) }

func open(cfg sled.Config, out **C.sled_db, err **C.char) C.int {
	db, e := cfg.Open()
	if e != nil {
		return fail(err, e)
	}
	o := &dbObj{db: db}
	o.mu.children = map[cgo.Handle]struct{}{}
	o.h = cgo.NewHandle(o)
	putHandle(unsafe.Pointer(out), o.h)
	return done(err, nil)
}

//export sled_open
func sled_open(cfg *C.sled_config, out **C.sled_db, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	if out == nil {
		return fail(err, invalid("out is NULL"))
	}
	*out = nil
	c, e := config(cfg)
	if e != nil {
		return fail(err, e)
	}
	return open(c, out, err)
}

//export sled_open_path
func sled_open_path(path *C.char, out **C.sled_db, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	if out == nil {
		return fail(err, invalid("out is NULL"))
	}
	*out = nil
	p, e := goString(path, "path")
	if e != nil {
		return fail(err, e)
	}
	return open(sled.Config{Path: p}, out, err)
}

//export sled_close
func sled_close(db *C.sled_db, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	o, e := dbOf(db)
	if e != nil {
		return fail(err, e)
	}
	o.mu.Lock()
	if o.mu.closed {
		o.mu.Unlock()
		return fail(err, errHandleClosed)
	}
	o.mu.closed = true
	for h := range o.mu.children {
		h.Delete()
	}
	o.mu.children = nil
	o.mu.Unlock()
	o.h.Delete()
	return done(err, o.db.Close())
}

// withDB runs fn on the database db names.
func withDB(db *C.sled_db, err **C.char, fn func(o *dbObj) error) C.int {
	o, e := dbOf(db)
	if e != nil {
		return fail(err, e)
	}
	return done(err, fn(o))
}

//export sled_flush
func sled_flush(db *C.sled_db, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	return withDB(db, err, func(o *dbObj) error { return o.db.Flush() })
}

//export sled_generate_id
func sled_generate_id(db *C.sled_db, id *C.uint64_t, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	if id == nil {
		return fail(err, invalid("id is NULL"))
	}
	return withDB(db, err, func(o *dbObj) error {
		n, e := o.db.GenerateID()
		*id = C.uint64_t(n)
		return e
	})
}

//export sled_size_on_disk
func sled_size_on_disk(db *C.sled_db, bytes *C.int64_t, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	if bytes == nil {
		return fail(err, invalid("bytes is NULL"))
	}
	return withDB(db, err, func(o *dbObj) error {
		n, e := o.db.SizeOnDisk()
		*bytes = C.int64_t(n)
		return e
	})
}

//export sled_was_recovered
func sled_was_recovered(db *C.sled_db, recovered *C.int, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	if recovered == nil {
		return fail(err, invalid("recovered is NULL"))
	}
	return withDB(db, err, func(o *dbObj) error {
		*recovered = 0
		if o.db.WasRecovered() {
			*recovered = 1
		}
		return nil
	})
}

//export sled_checksum
func sled_checksum(db *C.sled_db, crc *C.uint32_t, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	if crc == nil {
		return fail(err, invalid("crc is NULL"))
	}
	return withDB(db, err, func(o *dbObj) error {
		n, e := o.db.Checksum()
		*crc = C.uint32_t(n)
		return e
	})
}

//export sled_export
func sled_export(db *C.sled_db, path *C.char, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	p, e := goString(path, "path")
	if e != nil {
		return fail(err, e)
	}
	return withDB(db, err, func(o *dbObj) error { return exportFile(o.db, p) })
}

// exportFile writes db's dump to path durably: the file is synced before
// the call returns.
func exportFile(db *sled.DB, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = db.Export(w)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

//export sled_import
func sled_import(db *C.sled_db, path *C.char, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	p, e := goString(path, "path")
	if e != nil {
		return fail(err, e)
	}
	return withDB(db, err, func(o *dbObj) error {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		return o.db.Import(bufio.NewReaderSize(f, 1<<20))
	})
}

//export sled_stats_get
func sled_stats_get(db *C.sled_db, stats *C.sled_stats, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	if stats == nil {
		return fail(err, invalid("stats is NULL"))
	}
	size := uintptr(stats.struct_size)
	if size < unsafe.Sizeof(stats.struct_size) {
		return fail(err, invalid("stats->struct_size is %d; set it to sizeof(sled_stats)", size))
	}
	o, e := dbOf(db)
	if e != nil {
		return fail(err, e)
	}
	s, e := whileOpen(o, o.db.Stats)
	if e != nil {
		return fail(err, e)
	}
	var full C.sled_stats
	full.struct_size = C.size_t(min(size, unsafe.Sizeof(full)))
	full.trees = C.int64_t(s.Trees)
	full.pages = C.int64_t(s.Pages)
	full.cache_bytes = C.int64_t(s.CacheBytes)
	full.cache_hits = C.int64_t(s.CacheHits)
	full.cache_misses = C.int64_t(s.CacheMisses)
	full.cache_hit_ratio = C.double(s.CacheHitRatio)
	full.evictions = C.int64_t(s.Evictions)
	full.page_updates = C.int64_t(s.PageUpdates)
	full.page_images = C.int64_t(s.PageImages)
	full.page_fragments = C.int64_t(s.PageFragments)
	full.live_bytes = C.int64_t(s.LiveBytes)
	full.disk_bytes = C.int64_t(s.DiskBytes)
	full.space_amplification = C.double(s.SpaceAmplification)
	full.user_bytes_written = C.int64_t(s.UserBytesWritten)
	full.engine_bytes_written = C.int64_t(s.EngineBytesWritten)
	full.write_amplification = C.double(s.WriteAmplification)
	full.compression_ratio = C.double(s.CompressionRatio)
	full.log_syncs = C.int64_t(s.LogSyncs)
	full.segments_active = C.int64_t(s.SegmentsActive)
	full.segments_sealed = C.int64_t(s.SegmentsSealed)
	full.segments_cleaned = C.int64_t(s.SegmentsCleaned)
	full.pages_relocated = C.int64_t(s.PagesRelocated)
	// Fill only the struct_size bytes the caller's struct has.
	n := int(full.struct_size)
	copy(unsafe.Slice((*byte)(unsafe.Pointer(stats)), n), unsafe.Slice((*byte)(unsafe.Pointer(&full)), n))
	return done(err, nil)
}

// treeObj is what a sled_tree handle names.
type treeObj struct {
	db *dbObj
	t  *sled.Tree
	h  cgo.Handle
}

func treeOf(t *C.sled_tree) (*treeObj, error) { return lookup[*treeObj](ptrHandle(unsafe.Pointer(t))) }

// newTree registers a handle to t, a child of o.
func newTree(o *dbObj, t *sled.Tree, out **C.sled_tree) error {
	obj := &treeObj{db: o, t: t}
	h, err := o.adopt(obj)
	if err != nil {
		return err
	}
	obj.h = h
	putHandle(unsafe.Pointer(out), h)
	return nil
}

//export sled_default_tree
func sled_default_tree(db *C.sled_db, out **C.sled_tree, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	if out == nil {
		return fail(err, invalid("out is NULL"))
	}
	*out = nil
	return withDB(db, err, func(o *dbObj) error { return newTree(o, o.db.Tree, out) })
}

//export sled_open_tree
func sled_open_tree(db *C.sled_db, nameP *C.char, nameLen C.size_t, out **C.sled_tree, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	if out == nil {
		return fail(err, invalid("out is NULL"))
	}
	*out = nil
	n, e := name(nameP, nameLen)
	if e != nil {
		return fail(err, e)
	}
	return withDB(db, err, func(o *dbObj) error {
		t, err := o.db.OpenTree(n)
		if err != nil {
			return err
		}
		return newTree(o, t, out)
	})
}

//export sled_drop_tree
func sled_drop_tree(db *C.sled_db, nameP *C.char, nameLen C.size_t, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	n, e := name(nameP, nameLen)
	if e != nil {
		return fail(err, e)
	}
	return withDB(db, err, func(o *dbObj) error { return o.db.DropTree(n) })
}

//export sled_tree_names
func sled_tree_names(db *C.sled_db, names ***C.char, count *C.size_t, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	if names == nil || count == nil {
		return fail(err, invalid("names or count is NULL"))
	}
	*names, *count = nil, 0
	return withDB(db, err, func(o *dbObj) error {
		ns, e := whileOpen(o, o.db.TreeNames)
		if e != nil {
			return e
		}
		*names = packStrings(ns)
		*count = C.size_t(len(ns))
		return nil
	})
}

// packStrings lays out ns as one malloc'd block: len(ns) pointers, then
// the NUL-terminated strings they point to, so one free releases all.
func packStrings(ns []string) **C.char {
	ptrBytes := len(ns) * int(unsafe.Sizeof((*C.char)(nil)))
	total := ptrBytes
	for _, n := range ns {
		total += len(n) + 1
	}
	block := C.malloc(C.size_t(max(total, 1)))
	ptrs := unsafe.Slice((**C.char)(block), len(ns))
	data := unsafe.Slice((*byte)(block), total)
	off := ptrBytes
	for i, n := range ns {
		copy(data[off:], n)
		data[off+len(n)] = 0
		ptrs[i] = (*C.char)(unsafe.Add(block, off))
		off += len(n) + 1
	}
	return (**C.char)(block)
}

//export sled_tree_close
func sled_tree_close(t *C.sled_tree) (rc C.int) {
	defer guard(&rc, nil)
	o, e := treeOf(t)
	if e != nil {
		return fail(nil, e)
	}
	if !o.db.release(o.h) {
		return fail(nil, errHandleClosed)
	}
	return C.SLED_OK
}

//export sled_tree_name
func sled_tree_name(t *C.sled_tree, nameOut **C.char, nameLen *C.size_t, err **C.char) (rc C.int) {
	defer guard(&rc, err)
	if nameOut == nil {
		return fail(err, invalid("name is NULL"))
	}
	o, e := treeOf(t)
	if e != nil {
		return fail(err, e)
	}
	n := o.t.Name()
	p := C.malloc(C.size_t(len(n) + 1))
	b := unsafe.Slice((*byte)(p), len(n)+1)
	copy(b, n)
	b[len(n)] = 0
	*nameOut = (*C.char)(p)
	if nameLen != nil {
		*nameLen = C.size_t(len(n))
	}
	return done(err, nil)
}

// whileOpen runs fn while o cannot be closed, for the methods of sled.DB
// that do not check for a closed database themselves (they would read
// released state).
func whileOpen[T any](o *dbObj, fn func() T) (T, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.mu.closed {
		var zero T
		return zero, errHandleClosed
	}
	return fn(), nil
}
