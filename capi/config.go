package main

/*
#define SLED_NO_PROTOTYPES 1
#include "sled.h"
*/
import "C"

import (
	"math"
	"runtime/cgo"
	"sync"
	"time"
	"unsafe"

	"github.com/sledgo/sled"
)

// configObj is what a sled_config handle names.
type configObj struct {
	h  cgo.Handle
	mu struct {
		sync.Mutex
		cfg   sled.Config // protected by mu
		freed bool        // protected by mu
	}
}

// withConfig runs fn on the configuration handle c names, under its lock.
func withConfig(c *C.sled_config, fn func(cfg *sled.Config) error) (rc C.int) {
	defer guard(&rc, nil)
	o, err := lookup[*configObj](ptrHandle(unsafe.Pointer(c)))
	if err != nil {
		return fail(nil, err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.mu.freed {
		return fail(nil, errHandleClosed)
	}
	return fail(nil, fn(&o.mu.cfg))
}

//export sled_config_new
func sled_config_new(out **C.sled_config) (rc C.int) {
	defer guard(&rc, nil)
	if out == nil {
		return fail(nil, invalid("out is NULL"))
	}
	o := &configObj{}
	o.h = cgo.NewHandle(o)
	putHandle(unsafe.Pointer(out), o.h)
	return C.SLED_OK
}

//export sled_config_free
func sled_config_free(c *C.sled_config) (rc C.int) {
	defer guard(&rc, nil)
	o, err := lookup[*configObj](ptrHandle(unsafe.Pointer(c)))
	if err != nil {
		return fail(nil, err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.mu.freed {
		return fail(nil, errHandleClosed)
	}
	o.mu.freed = true
	o.h.Delete()
	return C.SLED_OK
}

//export sled_config_set_path
func sled_config_set_path(c *C.sled_config, path *C.char) C.int {
	return withConfig(c, func(cfg *sled.Config) error {
		p, err := goString(path, "path")
		cfg.Path = p
		return err
	})
}

//export sled_config_set_temporary
func sled_config_set_temporary(c *C.sled_config, on C.int) C.int {
	return withConfig(c, func(cfg *sled.Config) error {
		cfg.Temporary = on != 0
		return nil
	})
}

//export sled_config_set_create_new
func sled_config_set_create_new(c *C.sled_config, on C.int) C.int {
	return withConfig(c, func(cfg *sled.Config) error {
		cfg.CreateNew = on != 0
		return nil
	})
}

//export sled_config_set_cache_capacity
func sled_config_set_cache_capacity(c *C.sled_config, bytes C.int64_t) C.int {
	return withConfig(c, func(cfg *sled.Config) error {
		cfg.CacheCapacityBytes = int64(bytes) // Validate rejects a negative one
		return nil
	})
}

//export sled_config_set_flush_every_ms
func sled_config_set_flush_every_ms(c *C.sled_config, ms C.int64_t) C.int {
	return withConfig(c, func(cfg *sled.Config) error {
		if int64(ms) > math.MaxInt64/int64(time.Millisecond) {
			return invalid("flush interval of %d ms overflows", int64(ms))
		}
		if ms < 0 {
			cfg.FlushEvery = -1
		} else {
			cfg.FlushEvery = time.Duration(ms) * time.Millisecond
		}
		return nil
	})
}

//export sled_config_set_compression
func sled_config_set_compression(c *C.sled_config, enabled, level C.int) C.int {
	return withConfig(c, func(cfg *sled.Config) error {
		cfg.Compression = enabled != 0
		cfg.CompressionLevel = int(level) // Validate checks the range
		return nil
	})
}

//export sled_config_set_mode
func sled_config_set_mode(c *C.sled_config, mode C.int) C.int {
	return withConfig(c, func(cfg *sled.Config) error {
		cfg.Mode = sled.Mode(mode) // Validate rejects an unknown mode
		return nil
	})
}

//export sled_config_set_segment_size
func sled_config_set_segment_size(c *C.sled_config, bytes C.int64_t) C.int {
	return withConfig(c, func(cfg *sled.Config) error {
		if int64(bytes) > math.MaxInt32 || int64(bytes) < math.MinInt32 {
			return invalid("segment size %d is out of range", int64(bytes))
		}
		cfg.SegmentSizeBytes = int(bytes) // Validate checks the range
		return nil
	})
}

// config returns a copy of the configuration c names.
func config(c *C.sled_config) (sled.Config, error) {
	o, err := lookup[*configObj](ptrHandle(unsafe.Pointer(c)))
	if err != nil {
		return sled.Config{}, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.mu.freed {
		return sled.Config{}, errHandleClosed
	}
	return o.mu.cfg, nil
}
