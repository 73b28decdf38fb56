package sled

import (
	"bytes"
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// SubscriberBufferEvents is how many events a subscriber's channel holds.
const SubscriberBufferEvents = 1024

// Event is one successful write under a watched prefix.
type Event struct {
	Key     []byte
	Value   []byte // the new value; nil when Deleted
	Deleted bool
}

// Subscriber receives the events of a WatchPrefix.
//
// Delivery: every successful write under the prefix that begins after
// WatchPrefix returned produces exactly one event, and the events of one key
// arrive in the order of its writes. Events are never dropped: when the
// channel's buffer (SubscriberBufferEvents) is full, writers of keys under
// the prefix wait until the subscriber receives, or is closed. A subscriber
// that stops reading therefore stalls those writers, and while a writer is
// stalled, an ApplyBatch or a slow-path PopMin/PopMax on the tree waits for
// it and holds back every other writer of the tree: Close it when done.
// Do not write keys under the prefix from the goroutine that receives.
// The channel is closed by Close, by DropTree and by DB.Close.
type Subscriber struct {
	prefix []byte
	ch     chan Event
	done   chan struct{}
	closed atomic.Bool
	once   sync.Once
	owner  *subscribers
}

// Events returns the channel of events.
func (s *Subscriber) Events() <-chan Event { return s.ch }

// Close stops the subscription and closes the channel. It is idempotent.
func (s *Subscriber) Close() error {
	s.once.Do(func() {
		close(s.done) // release writers blocked on a full channel
		s.closed.Store(true)
		if s.owner != nil {
			s.owner.remove(s)
			// Every send happens under a stripe lock after checking
			// closed; once we have held each stripe, none is under way.
			for i := range s.owner.stripes {
				s.owner.stripes[i].Lock()
				s.owner.stripes[i].Unlock()
			}
		}
		close(s.ch)
	})
	return nil
}

const subscriberStripes = 64

// subscribers is the set of a tree's subscribers. Writers read the list with
// one atomic load and take no lock when no subscriber matches their key.
type subscribers struct {
	mu      sync.Mutex // serializes changes of list
	list    atomic.Pointer[[]*Subscriber]
	seed    maphash.Seed
	seeded  sync.Once
	stripes [subscriberStripes]sync.Mutex // order the events of one key
}

// WatchPrefix subscribes to the writes of keys that start with prefix.
func (t *Tree) WatchPrefix(prefix []byte) *Subscriber {
	s := &Subscriber{prefix: clone(prefix), ch: make(chan Event, SubscriberBufferEvents), done: make(chan struct{})}
	if t.usable() != nil {
		s.Close()
		return s
	}
	s.owner = &t.subs
	t.subs.add(s)
	if t.usable() != nil { // closed or dropped meanwhile
		s.Close()
	}
	return s
}

func (ss *subscribers) add(s *Subscriber) {
	ss.seeded.Do(func() { ss.seed = maphash.MakeSeed() })
	ss.mu.Lock()
	defer ss.mu.Unlock()
	var cur []*Subscriber
	if p := ss.list.Load(); p != nil {
		cur = *p
	}
	next := append(append([]*Subscriber(nil), cur...), s)
	ss.list.Store(&next)
}

func (ss *subscribers) remove(s *Subscriber) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	p := ss.list.Load()
	if p == nil {
		return
	}
	next := make([]*Subscriber, 0, len(*p))
	for _, x := range *p {
		if x != s {
			next = append(next, x)
		}
	}
	ss.list.Store(&next)
}

func (ss *subscribers) closeAll() {
	p := ss.list.Load()
	if p == nil {
		return
	}
	for _, s := range *p {
		s.Close()
	}
}

// matching returns the subscribers whose prefix key has, or nil.
func (ss *subscribers) matching(key []byte) []*Subscriber {
	p := ss.list.Load()
	if p == nil {
		return nil
	}
	var out []*Subscriber
	for _, s := range *p {
		if bytes.HasPrefix(key, s.prefix) {
			out = append(out, s)
		}
	}
	return out
}

func (ss *subscribers) stripe(key []byte) *sync.Mutex {
	ss.seeded.Do(func() { ss.seed = maphash.MakeSeed() })
	return &ss.stripes[maphash.Bytes(ss.seed, key)%subscriberStripes]
}

// publish sends one event to each subscriber; the caller holds key's stripe.
func publish(subs []*Subscriber, key, value []byte, deleted bool) {
	ev := Event{Key: key, Value: value, Deleted: deleted}
	if deleted {
		ev.Value = nil
	}
	for _, s := range subs {
		if s.closed.Load() {
			continue
		}
		select {
		case s.ch <- ev:
		case <-s.done:
		}
	}
}
