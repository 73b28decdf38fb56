package codec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/sledgo/sled/internal/node"
)

// SectionKind says what one section of a page record does.
type SectionKind uint8

const (
	// SecImage is a full node image of Page.
	SecImage SectionKind = iota + 1
	// SecDelta is a node.Delta (DeltaSet or DeltaDel) applied to Page's node.
	SecDelta
	// SecFree says Page is freed.
	SecFree
	// SecTreeCreate says tree Name was created with root page Page.
	SecTreeCreate
	// SecTreeDrop says tree Name was dropped.
	SecTreeDrop
	// SecIDReserve says ids below Value may have been handed out
	// (the GenerateID high-water mark).
	SecIDReserve
)

func (k SectionKind) String() string {
	switch k {
	case SecImage:
		return "image"
	case SecDelta:
		return "delta"
	case SecFree:
		return "free"
	case SecTreeCreate:
		return "tree-create"
	case SecTreeDrop:
		return "tree-drop"
	case SecIDReserve:
		return "id-reserve"
	}
	return fmt.Sprintf("SectionKind(%d)", uint8(k))
}

// pageKind reports whether sections of kind k change one page's state (and
// so are what FindPage looks for).
func (k SectionKind) pageKind() bool { return k == SecImage || k == SecDelta || k == SecFree }

// usesPage reports whether sections of kind k name a page. Kinds that do not
// encode page 0 and must decode with page 0.
func (k SectionKind) usesPage() bool { return k.pageKind() || k == SecTreeCreate }

// Section is one part of a page record. All sections of a record are applied
// atomically. Only the fields named for Kind are encoded; the others are
// ignored by AppendSections and zero after decoding.
type Section struct {
	Kind  SectionKind
	Page  node.PageID // SecImage, SecDelta, SecFree, SecTreeCreate (the root); never 0 for these
	Node  *node.Node  // SecImage
	Delta node.Delta  // SecDelta: Kind DeltaSet or DeltaDel, Key, and Val for DeltaSet
	Name  string      // SecTreeCreate, SecTreeDrop
	Value uint64      // SecIDReserve
}

const (
	nodeFlagFrozen = 1 << 0 // Node.Frozen
	nodeFlagHi     = 1 << 1 // Node.Hi != nil
	nodeFlagMark   = 1 << 2 // Node.Mark != nil (index nodes only)
	nodeFlagsKnown = nodeFlagFrozen | nodeFlagHi | nodeFlagMark
)

// minSectionBytes is the smallest encoded section: kind, page, body length.
const minSectionBytes = 3

// minEntryBytes is the smallest encoded node entry: a key length and either
// a value length (leaf) or a nonzero kid (index).
const minEntryBytes = 2

func pageCorruptf(format string, args ...any) error {
	return fmt.Errorf("%w: page record: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

func uvarintLen(v uint64) int { return (bits.Len64(v|1) + 6) / 7 }

// readUvarint decodes the canonical (shortest) uvarint at the start of b.
// Only the shortest form is accepted so that every decodable input has one
// encoding, which lets decoders promise that what decodes re-encodes to the
// same bytes.
func readUvarint(b []byte) (uint64, int, bool) {
	v, n := binary.Uvarint(b)
	if n <= 0 || (n > 1 && b[n-1] == 0) {
		return 0, 0, false
	}
	return v, n, true
}

// reader walks a byte slice; every method fails (ok == false) instead of
// reading past the end.
type reader struct {
	b   []byte
	off int
}

func (r *reader) left() int { return len(r.b) - r.off }

func (r *reader) uvarint() (uint64, bool) {
	v, n, ok := readUvarint(r.b[r.off:])
	r.off += n
	return v, ok
}

func (r *reader) byte1() (byte, bool) {
	if r.off >= len(r.b) {
		return 0, false
	}
	c := r.b[r.off]
	r.off++
	return c, true
}

// bytes returns the next n bytes, aliasing the input with capacity capped at
// the length so that an append never writes into the input.
func (r *reader) bytes(n uint64) ([]byte, bool) {
	if n > uint64(r.left()) {
		return nil, false
	}
	end := r.off + int(n)
	p := r.b[r.off:end:end]
	r.off = end
	return p, true
}

// lenBytes reads a uvarint length and that many bytes.
func (r *reader) lenBytes() ([]byte, bool) {
	n, ok := r.uvarint()
	if !ok {
		return nil, false
	}
	return r.bytes(n)
}

// NodeSize returns the exact size of EncodeNode(nil, n).
func NodeSize(n *node.Node) int {
	s := 2 + uvarintLen(uint64(n.Next)) + uvarintLen(uint64(len(n.Lo))) + len(n.Lo)
	if n.Hi != nil {
		s += uvarintLen(uint64(len(n.Hi))) + len(n.Hi)
	}
	s += uvarintLen(uint64(len(n.Keys)))
	for i, k := range n.Keys {
		s += uvarintLen(uint64(len(k))) + len(k)
		if n.IsLeaf() {
			s += uvarintLen(uint64(len(n.Vals[i]))) + len(n.Vals[i])
		} else {
			s += uvarintLen(uint64(n.Kids[i]))
		}
	}
	if hasMark(n) {
		s += (len(n.Keys) + 7) / 8
	}
	return s
}

// hasMark reports whether index node n has a marked entry (an all-false
// Mark is encoded as no Mark, as node.NewIndex would normalize it).
func hasMark(n *node.Node) bool {
	if n.IsLeaf() {
		return false
	}
	for _, m := range n.Mark {
		if m {
			return true
		}
	}
	return false
}

// EncodeNode appends the encoding of n to dst (see doc.go, "Node"). n must
// be well formed (CheckNode); an ill-formed node encodes to bytes that
// DecodeNode rejects.
func EncodeNode(dst []byte, n *node.Node) []byte {
	var flags byte
	if n.Frozen {
		flags |= nodeFlagFrozen
	}
	if n.Hi != nil {
		flags |= nodeFlagHi
	}
	marked := hasMark(n)
	if marked {
		flags |= nodeFlagMark
	}
	dst = append(dst, flags, n.Level)
	dst = binary.AppendUvarint(dst, uint64(n.Next))
	dst = binary.AppendUvarint(dst, uint64(len(n.Lo)))
	dst = append(dst, n.Lo...)
	if n.Hi != nil {
		dst = binary.AppendUvarint(dst, uint64(len(n.Hi)))
		dst = append(dst, n.Hi...)
	}
	dst = binary.AppendUvarint(dst, uint64(len(n.Keys)))
	if n.IsLeaf() {
		for i, k := range n.Keys {
			dst = binary.AppendUvarint(dst, uint64(len(k)))
			dst = append(dst, k...)
			dst = binary.AppendUvarint(dst, uint64(len(n.Vals[i])))
			dst = append(dst, n.Vals[i]...)
		}
		return dst
	}
	for i, k := range n.Keys {
		dst = binary.AppendUvarint(dst, uint64(len(k)))
		dst = append(dst, k...)
		dst = binary.AppendUvarint(dst, uint64(n.Kids[i]))
	}
	if marked {
		start := len(dst)
		for range (len(n.Keys) + 7) / 8 {
			dst = append(dst, 0)
		}
		for i := range n.Keys {
			if i < len(n.Mark) && n.Mark[i] {
				dst[start+i/8] |= 1 << (i % 8)
			}
		}
	}
	return dst
}

// DecodeNode decodes a node encoded by EncodeNode; b must hold exactly one
// node. The node's Lo, Hi, keys and values alias b (capacity capped at their
// length): b must not be modified while the node is in use.
func DecodeNode(b []byte) (*node.Node, error) {
	r := reader{b: b}
	n, err := decodeNode(&r)
	if err != nil {
		return nil, err
	}
	if r.left() != 0 {
		return nil, pageCorruptf("%d bytes after the node", r.left())
	}
	return n, nil
}

func decodeNode(r *reader) (*node.Node, error) {
	flags, ok := r.byte1()
	if !ok {
		return nil, pageCorruptf("truncated node header")
	}
	level, ok := r.byte1()
	if !ok {
		return nil, pageCorruptf("truncated node header")
	}
	if flags&^nodeFlagsKnown != 0 {
		return nil, pageCorruptf("unknown node flags %#x", flags)
	}
	if level == 0 && flags&nodeFlagMark != 0 {
		return nil, pageCorruptf("leaf with marks")
	}
	next, ok := r.uvarint()
	if !ok {
		return nil, pageCorruptf("bad next")
	}
	lo, ok := r.lenBytes()
	if !ok {
		return nil, pageCorruptf("bad lo")
	}
	var hi []byte
	if flags&nodeFlagHi != 0 {
		if hi, ok = r.lenBytes(); !ok {
			return nil, pageCorruptf("bad hi")
		}
	}
	count, ok := r.uvarint()
	if !ok {
		return nil, pageCorruptf("bad entry count")
	}
	// Bound the count by the bytes left before allocating for it.
	if count > uint64(r.left()/minEntryBytes) {
		return nil, pageCorruptf("%d entries in %d bytes", count, r.left())
	}
	if level > 0 && count == 0 {
		return nil, pageCorruptf("index node without entries")
	}
	var n *node.Node
	if level == 0 {
		var keys, vals [][]byte // nil when empty, like node.NewLeaf's callers
		if count > 0 {
			kv := make([][]byte, 2*count)
			keys, vals = kv[:count:count], kv[count:]
		}
		for i := range keys {
			if keys[i], ok = r.lenBytes(); !ok {
				return nil, pageCorruptf("bad key %d", i)
			}
			if vals[i], ok = r.lenBytes(); !ok {
				return nil, pageCorruptf("bad value %d", i)
			}
		}
		n = node.NewLeaf(lo, hi, node.PageID(next), keys, vals)
	} else {
		keys := make([][]byte, count)
		kids := make([]node.PageID, count)
		for i := range keys {
			if keys[i], ok = r.lenBytes(); !ok {
				return nil, pageCorruptf("bad key %d", i)
			}
			kid, ok := r.uvarint()
			if !ok || kid == 0 {
				return nil, pageCorruptf("bad kid %d", i)
			}
			kids[i] = node.PageID(kid)
		}
		var mark []bool
		if flags&nodeFlagMark != 0 {
			bm, ok := r.bytes((count + 7) / 8)
			if !ok {
				return nil, pageCorruptf("truncated mark bitmap")
			}
			if count%8 != 0 && bm[len(bm)-1]>>(count%8) != 0 {
				return nil, pageCorruptf("mark bitmap padding is not zero")
			}
			mark = make([]bool, count)
			someMarked := false
			for i := range mark {
				mark[i] = bm[i/8]&(1<<(i%8)) != 0
				someMarked = someMarked || mark[i]
			}
			if !someMarked {
				// NewIndex would drop an all-false mark, and the
				// encoder never writes one.
				return nil, pageCorruptf("mark bitmap with no mark")
			}
		}
		n = node.NewIndex(level, lo, hi, node.PageID(next), keys, kids, mark)
	}
	n.Frozen = flags&nodeFlagFrozen != 0
	if err := CheckNode(n); err != nil {
		return nil, err
	}
	return n, nil
}

// CheckNode reports (wrapping ErrCorrupt) why n could not have come from a
// well-formed encoding: a leaf needs one value per key and no kids; an index
// node needs one nonzero kid per key, at least one entry, no values, and a
// Mark that is nil or one flag per key; keys are strictly increasing and lie
// in [Lo, Hi). DecodeNode runs it on every node; writers may run it before
// encoding.
func CheckNode(n *node.Node) error {
	if n.IsLeaf() {
		if len(n.Vals) != len(n.Keys) || n.Kids != nil || n.Mark != nil {
			return pageCorruptf("leaf with %d keys, %d values, %d kids", len(n.Keys), len(n.Vals), len(n.Kids))
		}
	} else {
		if len(n.Kids) != len(n.Keys) || len(n.Keys) == 0 || n.Vals != nil {
			return pageCorruptf("index node with %d keys, %d kids, %d values", len(n.Keys), len(n.Kids), len(n.Vals))
		}
		if n.Mark != nil && len(n.Mark) != len(n.Keys) {
			return pageCorruptf("index node with %d keys and %d marks", len(n.Keys), len(n.Mark))
		}
		for i, k := range n.Kids {
			if k == 0 {
				return pageCorruptf("kid %d is page 0", i)
			}
		}
	}
	if n.Lo == nil {
		return pageCorruptf("nil lo")
	}
	for i, k := range n.Keys {
		if i == 0 {
			if bytes.Compare(k, n.Lo) < 0 {
				return pageCorruptf("key 0 %q below lo %q", k, n.Lo)
			}
		} else if bytes.Compare(n.Keys[i-1], k) >= 0 {
			return pageCorruptf("keys %d and %d out of order", i-1, i)
		}
	}
	if n.Hi != nil && len(n.Keys) > 0 && bytes.Compare(n.Keys[len(n.Keys)-1], n.Hi) >= 0 {
		return pageCorruptf("last key %q not below hi %q", n.Keys[len(n.Keys)-1], n.Hi)
	}
	return nil
}

func deltaBodySize(d node.Delta) int {
	if d.Kind == node.DeltaBatch {
		s := 1 + uvarintLen(uint64(len(d.Ops)))
		for _, op := range d.Ops {
			s += 1 + uvarintLen(uint64(len(op.Key))) + len(op.Key)
			if op.Kind == node.DeltaSet {
				s += uvarintLen(uint64(len(op.Val))) + len(op.Val)
			}
		}
		return s
	}
	s := 1 + uvarintLen(uint64(len(d.Key))) + len(d.Key)
	if d.Kind == node.DeltaSet {
		s += len(d.Val)
	}
	return s
}

// appendBatchDelta appends the body of a DeltaBatch section: the count,
// then per op its kind, key and (for a set) value, each length-prefixed.
func appendBatchDelta(dst []byte, d node.Delta) []byte {
	dst = append(dst, byte(d.Kind))
	dst = binary.AppendUvarint(dst, uint64(len(d.Ops)))
	for _, op := range d.Ops {
		dst = append(dst, byte(op.Kind))
		dst = binary.AppendUvarint(dst, uint64(len(op.Key)))
		dst = append(dst, op.Key...)
		if op.Kind == node.DeltaSet {
			dst = binary.AppendUvarint(dst, uint64(len(op.Val)))
			dst = append(dst, op.Val...)
		}
	}
	return dst
}

func sectionBodySize(s *Section) int {
	switch s.Kind {
	case SecImage:
		return NodeSize(s.Node)
	case SecDelta:
		return deltaBodySize(s.Delta)
	case SecFree:
		return 0
	case SecTreeCreate, SecTreeDrop:
		return len(s.Name)
	case SecIDReserve:
		return uvarintLen(s.Value)
	}
	panic(fmt.Sprintf("codec: cannot encode section kind %d", s.Kind))
}

func sectionPage(s *Section) uint64 {
	if s.Kind.usesPage() {
		return uint64(s.Page)
	}
	return 0
}

// SectionsSize returns the exact size of AppendSections(nil, secs), so a
// caller can reserve log space before encoding.
func SectionsSize(secs []Section) int {
	size := uvarintLen(uint64(len(secs)))
	for i := range secs {
		s := &secs[i]
		body := sectionBodySize(s)
		size += 1 + uvarintLen(sectionPage(s)) + uvarintLen(uint64(body)) + body
	}
	return size
}

// AppendSections appends the encoding of secs to dst (see doc.go, "Page
// records"). It panics on a section of unknown kind or an image without a
// node: those are programming errors, not data.
func AppendSections(dst []byte, secs []Section) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(secs)))
	for i := range secs {
		s := &secs[i]
		body := sectionBodySize(s)
		dst = append(dst, byte(s.Kind))
		dst = binary.AppendUvarint(dst, sectionPage(s))
		dst = binary.AppendUvarint(dst, uint64(body))
		switch s.Kind {
		case SecImage:
			dst = EncodeNode(dst, s.Node)
		case SecDelta:
			if s.Delta.Kind == node.DeltaBatch {
				dst = appendBatchDelta(dst, s.Delta)
				break
			}
			dst = append(dst, byte(s.Delta.Kind))
			dst = binary.AppendUvarint(dst, uint64(len(s.Delta.Key)))
			dst = append(dst, s.Delta.Key...)
			if s.Delta.Kind == node.DeltaSet {
				dst = append(dst, s.Delta.Val...)
			}
		case SecTreeCreate, SecTreeDrop:
			dst = append(dst, s.Name...)
		case SecIDReserve:
			dst = binary.AppendUvarint(dst, s.Value)
		}
	}
	return dst
}

// sectionFrame is a section's header with its body still undecoded.
type sectionFrame struct {
	kind SectionKind
	page node.PageID
	body []byte
}

// readFrames calls fn for each section frame of the record b, checking the
// framing (count, kinds, pages, lengths, nothing left over) but not bodies.
func readFrames(b []byte, fn func(i int, f sectionFrame) error) error {
	r := reader{b: b}
	count, ok := r.uvarint()
	if !ok {
		return pageCorruptf("bad section count")
	}
	if count > uint64(r.left()/minSectionBytes) {
		return pageCorruptf("%d sections in %d bytes", count, r.left())
	}
	for i := 0; i < int(count); i++ {
		kb, ok := r.byte1()
		if !ok {
			return pageCorruptf("truncated section %d", i)
		}
		kind := SectionKind(kb)
		if kind < SecImage || kind > SecIDReserve {
			return pageCorruptf("section %d has unknown kind %d", i, kb)
		}
		page, ok := r.uvarint()
		if !ok {
			return pageCorruptf("section %d: bad page", i)
		}
		if kind.usesPage() != (page != 0) {
			return pageCorruptf("section %d (%v) names page %d", i, kind, page)
		}
		body, ok := r.lenBytes()
		if !ok {
			return pageCorruptf("section %d: bad body length", i)
		}
		if err := fn(i, sectionFrame{kind: kind, page: node.PageID(page), body: body}); err != nil {
			return err
		}
	}
	if r.left() != 0 {
		return pageCorruptf("%d bytes after the last section", r.left())
	}
	return nil
}

// decodeBatchDelta decodes the rest of a DeltaBatch section body; the ops'
// keys must be strictly increasing and the body used up exactly.
func decodeBatchDelta(r *reader) (node.Delta, error) {
	n, ok := r.uvarint()
	if !ok || n == 0 || n > uint64(r.left()) {
		return node.Delta{}, fmt.Errorf("bad batch delta count")
	}
	d := node.Delta{Kind: node.DeltaBatch, Ops: make([]node.Delta, 0, n)}
	for j := uint64(0); j < n; j++ {
		kb, ok := r.byte1()
		op := node.Delta{Kind: node.DeltaKind(kb)}
		if !ok || (op.Kind != node.DeltaSet && op.Kind != node.DeltaDel) {
			return node.Delta{}, fmt.Errorf("batch delta op %d: bad kind", j)
		}
		if op.Key, ok = r.lenBytes(); !ok {
			return node.Delta{}, fmt.Errorf("batch delta op %d: bad key", j)
		}
		if j > 0 && bytes.Compare(d.Ops[j-1].Key, op.Key) >= 0 {
			return node.Delta{}, fmt.Errorf("batch delta op %d: keys not increasing", j)
		}
		if op.Kind == node.DeltaSet {
			if op.Val, ok = r.lenBytes(); !ok {
				return node.Delta{}, fmt.Errorf("batch delta op %d: bad value", j)
			}
		}
		d.Ops = append(d.Ops, op)
	}
	if r.left() != 0 {
		return node.Delta{}, fmt.Errorf("%d bytes after a batch delta", r.left())
	}
	return d, nil
}

func decodeSection(i int, f sectionFrame) (Section, error) {
	s := Section{Kind: f.kind, Page: f.page}
	switch f.kind {
	case SecImage:
		n, err := DecodeNode(f.body)
		if err != nil {
			return Section{}, fmt.Errorf("section %d (page %d): %w", i, f.page, err)
		}
		s.Node = n
	case SecDelta:
		r := reader{b: f.body}
		kb, _ := r.byte1()
		dk := node.DeltaKind(kb)
		if dk == node.DeltaBatch {
			d, err := decodeBatchDelta(&r)
			if err != nil {
				return Section{}, pageCorruptf("section %d (page %d): %v", i, f.page, err)
			}
			s.Delta = d
			break
		}
		if dk != node.DeltaSet && dk != node.DeltaDel {
			return Section{}, pageCorruptf("section %d (page %d): bad delta kind %d", i, f.page, kb)
		}
		key, ok := r.lenBytes()
		if !ok {
			return Section{}, pageCorruptf("section %d (page %d): bad delta key", i, f.page)
		}
		s.Delta = node.Delta{Kind: dk, Key: key}
		rest, _ := r.bytes(uint64(r.left()))
		if dk == node.DeltaSet {
			s.Delta.Val = rest
		} else if len(rest) != 0 {
			return Section{}, pageCorruptf("section %d (page %d): %d bytes after a delete", i, f.page, len(rest))
		}
	case SecFree:
		if len(f.body) != 0 {
			return Section{}, pageCorruptf("section %d (page %d): free with a body", i, f.page)
		}
	case SecTreeCreate, SecTreeDrop:
		s.Name = string(f.body)
	case SecIDReserve:
		v, n, ok := readUvarint(f.body)
		if !ok || n != len(f.body) {
			return Section{}, pageCorruptf("section %d: bad id reserve", i)
		}
		s.Value = v
	}
	return s, nil
}

// DecodeSections decodes a record encoded by AppendSections; b must hold
// exactly one record. Decoded nodes and deltas alias b (keys, values, Lo and
// Hi are subslices of b with capacity capped at their length, so appending
// to them never writes into b): b must not be modified while they are in
// use. Names are copied.
func DecodeSections(b []byte) ([]Section, error) {
	var secs []Section
	err := readFrames(b, func(i int, f sectionFrame) error {
		if secs == nil {
			secs = make([]Section, 0, min(len(b)/minSectionBytes, 16))
		}
		s, err := decodeSection(i, f)
		if err != nil {
			return err
		}
		secs = append(secs, s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return secs, nil
}

// FindPage returns the last image, delta or free section for page id in the
// record b, decoding only that section's body (the others are skipped by
// their length prefix; the framing of the whole record is still checked).
// found is false when no such section exists. The result aliases b as in
// DecodeSections.
func FindPage(b []byte, id node.PageID) (s Section, found bool, err error) {
	var last sectionFrame
	at := -1
	err = readFrames(b, func(i int, f sectionFrame) error {
		if f.page == id && f.kind.pageKind() {
			last, at = f, i
		}
		return nil
	})
	if err != nil || at < 0 {
		return Section{}, false, err
	}
	s, err = decodeSection(at, last)
	if err != nil {
		return Section{}, false, err
	}
	return s, true, nil
}
