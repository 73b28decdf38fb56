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
	// SecDelta is a node.Delta (DeltaSet, DeltaDel, DeltaBatch, DeltaSplit
	// or DeltaChild) applied to Page's node.
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
	// SecTxRedo holds the writes of one multi-key commit to tree Name
	// (Delta: a DeltaBatch, keys increasing), Value the LSN of that tree's
	// creation record: a redo record written before the commit changes
	// any page.
	SecTxRedo
	// SecTxEnd says every write of the commit whose redo record is at LSN
	// Value is in the pages' own records.
	SecTxEnd
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
	case SecTxRedo:
		return "tx-redo"
	case SecTxEnd:
		return "tx-end"
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
	Kind SectionKind
	Page node.PageID // SecImage, SecDelta, SecFree, SecTreeCreate (the root); never 0 for these
	Node *node.Node  // SecImage
	// Varint (SecImage): the image is in the varint form (EncodeNode),
	// smaller with small values, rather than the flat form (the node's own
	// bytes); the page cache writes the form its mode asks for. Decoding
	// sets it, so that a record re-encodes to its own bytes.
	Varint bool
	Delta  node.Delta // SecDelta: a DeltaSet, DeltaDel, DeltaBatch, DeltaSplit or DeltaChild
	Name   string     // SecTreeCreate, SecTreeDrop, SecTxRedo
	Value  uint64     // SecIDReserve, SecTxEnd, SecTxRedo
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
	lo, hi := n.Lo(), n.Hi()
	s := 2 + uvarintLen(uint64(n.Next())) + uvarintLen(uint64(len(lo))) + len(lo)
	if hi != nil {
		s += uvarintLen(uint64(len(hi))) + len(hi)
	}
	s += uvarintLen(uint64(n.Len()))
	if n.IsLeaf() {
		n.Each(func(k, v []byte) {
			s += uvarintLen(uint64(len(k))) + len(k) + uvarintLen(uint64(len(v))) + len(v)
		})
		return s
	}
	for i := range n.Len() {
		k := n.Key(i)
		s += uvarintLen(uint64(len(k))) + len(k) + uvarintLen(uint64(n.Kid(i)))
	}
	if n.HasMark() {
		s += (n.Len() + 7) / 8
	}
	return s
}

// EncodeNode appends the encoding of n to dst (see doc.go, "Node").
func EncodeNode(dst []byte, n *node.Node) []byte {
	var flags byte
	if n.Frozen() {
		flags |= nodeFlagFrozen
	}
	hi := n.Hi()
	if hi != nil {
		flags |= nodeFlagHi
	}
	marked := n.HasMark()
	if marked {
		flags |= nodeFlagMark
	}
	dst = append(dst, flags, n.Level())
	dst = binary.AppendUvarint(dst, uint64(n.Next()))
	lo := n.Lo()
	dst = binary.AppendUvarint(dst, uint64(len(lo)))
	dst = append(dst, lo...)
	if hi != nil {
		dst = binary.AppendUvarint(dst, uint64(len(hi)))
		dst = append(dst, hi...)
	}
	dst = binary.AppendUvarint(dst, uint64(n.Len()))
	if n.IsLeaf() {
		n.Each(func(k, v []byte) {
			dst = binary.AppendUvarint(dst, uint64(len(k)))
			dst = append(dst, k...)
			dst = binary.AppendUvarint(dst, uint64(len(v)))
			dst = append(dst, v...)
		})
		return dst
	}
	for i := range n.Len() {
		k := n.Key(i)
		dst = binary.AppendUvarint(dst, uint64(len(k)))
		dst = append(dst, k...)
		dst = binary.AppendUvarint(dst, uint64(n.Kid(i)))
	}
	if marked {
		start := len(dst)
		for range (n.Len() + 7) / 8 {
			dst = append(dst, 0)
		}
		for i := range n.Len() {
			if n.Marked(i) {
				dst[start+i/8] |= 1 << (i % 8)
			}
		}
	}
	return dst
}

// DecodeNode decodes a node encoded by EncodeNode; b must hold exactly one
// node. The node is built in one new buffer (node.Builder) and keeps nothing
// of b.
func DecodeNode(b []byte) (*node.Node, error) { return decodeNodeIn(nil, b) }

// decodeNodeIn is DecodeNode with a leaf's buffer from a, when a gives
// one (node.Node.Slot); on an error nothing of a is kept.
func decodeNodeIn(a node.Allocator, b []byte) (*node.Node, error) {
	r := reader{b: b}
	n, err := decodeNode(&r, a)
	if err != nil {
		return nil, err
	}
	if r.left() != 0 {
		if s := n.Slot(); s != nil {
			a.Put(s)
		}
		return nil, pageCorruptf("%d bytes after the node", r.left())
	}
	return n, nil
}

// decodeNode builds the node in one buffer, with no allocation per entry:
// a leaf in one pass, into a buffer bounded by the encoding and trimmed; an
// index node in two (framing and sizes, then the entries), since its mark
// bitmap follows the entries.
func decodeNode(r *reader, a node.Allocator) (*node.Node, error) {
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
	// Bound the count by the bytes left before sizing anything by it.
	if count > uint64(r.left()/minEntryBytes) {
		return nil, pageCorruptf("%d entries in %d bytes", count, r.left())
	}
	if level > 0 && count == 0 {
		return nil, pageCorruptf("index node without entries")
	}
	if level == 0 {
		// A leaf in one pass: its entries are the rest of b (no bitmap
		// follows), each with at least two bytes of varint lengths beside
		// its key and value, so the rest bounds their key and value bytes.
		w := node.NewLeafBuilderUpToIn(a, flags&nodeFlagFrozen != 0, node.PageID(next), lo, hi, int(count), r.left()-minEntryBytes*int(count))
		for i := range int(count) {
			k, ok := r.lenBytes()
			if !ok {
				w.Abandon()
				return nil, pageCorruptf("bad key %d", i)
			}
			v, ok := r.lenBytes()
			if !ok {
				w.Abandon()
				return nil, pageCorruptf("bad value %d", i)
			}
			if !w.Leaf(k, v) {
				w.Abandon()
				return nil, pageCorruptf("entry %d does not fit the node", i)
			}
		}
		n, err := w.Finish()
		if err != nil {
			return nil, fmt.Errorf("%w: page record: %v", ErrCorrupt, err)
		}
		return n, nil
	}
	// An index node in two passes: framing and sizes, then the entries.
	entries := r.off
	keyBytes, valBytes := 0, 0
	for i := range int(count) {
		k, ok := r.lenBytes()
		if !ok {
			return nil, pageCorruptf("bad key %d", i)
		}
		keyBytes += len(k)
		if level == 0 {
			v, ok := r.lenBytes()
			if !ok {
				return nil, pageCorruptf("bad value %d", i)
			}
			valBytes += len(v)
		} else if kid, ok := r.uvarint(); !ok || kid == 0 {
			return nil, pageCorruptf("bad kid %d", i)
		}
	}
	var bm []byte
	if flags&nodeFlagMark != 0 {
		if bm, ok = r.bytes((count + 7) / 8); !ok {
			return nil, pageCorruptf("truncated mark bitmap")
		}
		if count%8 != 0 && bm[len(bm)-1]>>(count%8) != 0 {
			return nil, pageCorruptf("mark bitmap padding is not zero")
		}
		someMarked := false
		for _, c := range bm {
			someMarked = someMarked || c != 0
		}
		if !someMarked {
			// The encoder never writes a bitmap without a mark.
			return nil, pageCorruptf("mark bitmap with no mark")
		}
	}
	// Pass 2: the entries, into one buffer.
	end := r.off
	r.off = entries
	w := node.NewBuilder(level, flags&nodeFlagFrozen != 0, node.PageID(next), lo, hi, int(count), keyBytes, valBytes)
	for i := range int(count) {
		k, _ := r.lenBytes()
		if level == 0 {
			v, _ := r.lenBytes()
			w.Leaf(k, v)
		} else {
			kid, _ := r.uvarint()
			w.Index(k, node.PageID(kid), bm != nil && bm[i/8]&(1<<(i%8)) != 0)
		}
	}
	r.off = end
	n, err := w.Finish()
	if err != nil {
		return nil, fmt.Errorf("%w: page record: %v", ErrCorrupt, err)
	}
	return n, nil
}

// CheckNode reports (wrapping ErrCorrupt) why n could not have come from a
// well-formed encoding (node.FromBytes' checks: sorted keys within [Lo, Hi),
// index nodes with entries and nonzero kids, consistent marks).
func CheckNode(n *node.Node) error {
	if _, err := node.FromBytes(n.Bytes()); err != nil {
		return fmt.Errorf("%w: page record: %v", ErrCorrupt, err)
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
	switch d.Kind {
	case node.DeltaSet:
		s += len(d.Val)
	case node.DeltaSplit, node.DeltaChild:
		s += uvarintLen(uint64(d.Kid))
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

// imageFlat is the first byte of an image body in the flat form: the node's
// own buffer follows (internal/node/layout.go), so a page-in copies it and
// checks it (node.FromBytes) instead of decoding entry by entry. Any other
// first byte is the flags byte of the varint form (EncodeNode), whose
// known flags never include it.
const imageFlat = 0x80

func imageSize(s *Section) int {
	if s.Varint {
		return NodeSize(s.Node)
	}
	return 1 + len(s.Node.Bytes())
}

func appendImage(dst []byte, s *Section) []byte {
	if s.Varint {
		return EncodeNode(dst, s.Node)
	}
	dst = append(dst, imageFlat)
	return append(dst, s.Node.Bytes()...)
}

// decodeImage decodes an image body of either form into a node that keeps
// nothing of b.
func decodeImage(b []byte, a node.Allocator) (n *node.Node, varint bool, err error) {
	if len(b) == 0 || b[0] != imageFlat {
		n, err = decodeNodeIn(a, b)
		return n, true, err
	}
	// One copy, into a slot of a or into heap memory the allocator does
	// not zero first, so that the node owns its bytes.
	n, err = node.FromBytesIn(a, b[1:])
	if err != nil {
		return nil, false, pageCorruptf("flat image: %v", err)
	}
	return n, false, nil
}

func sectionBodySize(s *Section) int {
	switch s.Kind {
	case SecImage:
		return imageSize(s)
	case SecDelta:
		return deltaBodySize(s.Delta)
	case SecFree:
		return 0
	case SecTreeCreate, SecTreeDrop:
		return len(s.Name)
	case SecIDReserve, SecTxEnd:
		return uvarintLen(s.Value)
	case SecTxRedo:
		return uvarintLen(s.Value) + uvarintLen(uint64(len(s.Name))) + len(s.Name) + deltaBodySize(s.Delta)
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
			dst = appendImage(dst, s)
		case SecDelta:
			if s.Delta.Kind == node.DeltaBatch {
				dst = appendBatchDelta(dst, s.Delta)
				break
			}
			dst = append(dst, byte(s.Delta.Kind))
			dst = binary.AppendUvarint(dst, uint64(len(s.Delta.Key)))
			dst = append(dst, s.Delta.Key...)
			switch s.Delta.Kind {
			case node.DeltaSet:
				dst = append(dst, s.Delta.Val...)
			case node.DeltaSplit, node.DeltaChild:
				dst = binary.AppendUvarint(dst, uint64(s.Delta.Kid))
			}
		case SecTreeCreate, SecTreeDrop:
			dst = append(dst, s.Name...)
		case SecIDReserve, SecTxEnd:
			dst = binary.AppendUvarint(dst, s.Value)
		case SecTxRedo:
			dst = binary.AppendUvarint(dst, s.Value)
			dst = binary.AppendUvarint(dst, uint64(len(s.Name)))
			dst = append(dst, s.Name...)
			dst = appendBatchDelta(dst, s.Delta)
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
		if kind < SecImage || kind > SecTxEnd {
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

func decodeSection(i int, f sectionFrame, a node.Allocator) (Section, error) {
	s := Section{Kind: f.kind, Page: f.page}
	switch f.kind {
	case SecImage:
		n, varint, err := decodeImage(f.body, a)
		if err != nil {
			return Section{}, fmt.Errorf("section %d (page %d): %w", i, f.page, err)
		}
		s.Node, s.Varint = n, varint
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
		if dk != node.DeltaSet && dk != node.DeltaDel && dk != node.DeltaSplit && dk != node.DeltaChild {
			return Section{}, pageCorruptf("section %d (page %d): bad delta kind %d", i, f.page, kb)
		}
		key, ok := r.lenBytes()
		if !ok {
			return Section{}, pageCorruptf("section %d (page %d): bad delta key", i, f.page)
		}
		s.Delta = node.Delta{Kind: dk, Key: key}
		rest, _ := r.bytes(uint64(r.left()))
		switch dk {
		case node.DeltaSet:
			s.Delta.Val = rest
		case node.DeltaSplit, node.DeltaChild:
			kid, n, ok := readUvarint(rest)
			if !ok || n != len(rest) || kid == 0 {
				return Section{}, pageCorruptf("section %d (page %d): bad page id in a split or child delta", i, f.page)
			}
			s.Delta.Kid = node.PageID(kid)
		default:
			if len(rest) != 0 {
				return Section{}, pageCorruptf("section %d (page %d): %d bytes after a delete", i, f.page, len(rest))
			}
		}
	case SecFree:
		if len(f.body) != 0 {
			return Section{}, pageCorruptf("section %d (page %d): free with a body", i, f.page)
		}
	case SecTreeCreate, SecTreeDrop:
		s.Name = string(f.body)
	case SecIDReserve, SecTxEnd:
		v, n, ok := readUvarint(f.body)
		if !ok || n != len(f.body) {
			return Section{}, pageCorruptf("section %d: bad %v", i, f.kind)
		}
		s.Value = v
	case SecTxRedo:
		r := reader{b: f.body}
		v, ok := r.uvarint()
		if !ok {
			return Section{}, pageCorruptf("section %d: bad tree stamp in a redo record", i)
		}
		s.Value = v
		name, ok := r.lenBytes()
		if !ok {
			return Section{}, pageCorruptf("section %d: bad tree name in a redo record", i)
		}
		s.Name = string(name)
		if kb, ok := r.byte1(); !ok || node.DeltaKind(kb) != node.DeltaBatch {
			return Section{}, pageCorruptf("section %d: a redo record without a batch", i)
		}
		d, err := decodeBatchDelta(&r)
		if err != nil {
			return Section{}, pageCorruptf("section %d: redo record: %v", i, err)
		}
		s.Delta = d
	}
	return s, nil
}

// DecodeSections decodes a record encoded by AppendSections; b must hold
// exactly one record. Decoded deltas alias b (their keys and values are
// subslices of b with capacity capped at their length, so appending to them
// never writes into b): b must not be modified while they are in use.
// Nodes (see DecodeNode) and names are copied.
func DecodeSections(b []byte) ([]Section, error) {
	var secs []Section
	err := readFrames(b, func(i int, f sectionFrame) error {
		if secs == nil {
			secs = make([]Section, 0, min(len(b)/minSectionBytes, 16))
		}
		s, err := decodeSection(i, f, nil)
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
	return FindPageIn(nil, b, id)
}

// FindPageIn is FindPage with an image's node built in a slot of a when a
// gives one (node.Node.Slot): the caller owns the slot, and gets none when
// it gets an error.
func FindPageIn(a node.Allocator, b []byte, id node.PageID) (s Section, found bool, err error) {
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
	s, err = decodeSection(at, last, a)
	if err != nil {
		return Section{}, false, err
	}
	return s, true, nil
}
