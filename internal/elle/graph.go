package elle

import "sort"

// Edge kinds, as bits of an edge mask.
const (
	ww uint8 = 1 << iota // write-write: the target appended the next element
	wr                   // write-read: the target read the source's append
	rw                   // read-write: the target appended the element after the source's read
)

func kindBit(kind uint8) int {
	switch kind {
	case ww:
		return 0
	case wr:
		return 1
	default:
		return 2
	}
}

func kindName(kind uint8) string {
	switch kind {
	case ww:
		return "ww"
	case wr:
		return "wr"
	default:
		return "rw"
	}
}

// edge is a dependency between two transactions; one edge may carry several
// kinds, each with the first key that produced it.
type edge struct {
	to   int32
	mask uint8
	keys [3]string
}

// graph is a dependency graph over committed transactions (nodes 0..n-1).
// Adjacency lists keep insertion order, so traversals are deterministic.
type graph struct {
	adj   [][]edge
	index map[uint64]int32 // (from, to) -> position in adj[from]
}

func newGraph(n int) *graph {
	return &graph{adj: make([][]edge, n), index: make(map[uint64]int32)}
}

func pairKey(from, to int32) uint64 { return uint64(uint32(from))<<32 | uint64(uint32(to)) }

func (g *graph) add(from, to int32, kind uint8, key string) {
	id := pairKey(from, to)
	if i, ok := g.index[id]; ok {
		e := &g.adj[from][i]
		if e.mask&kind == 0 {
			e.mask |= kind
			e.keys[kindBit(kind)] = key
		}
		return
	}
	e := edge{to: to, mask: kind}
	e.keys[kindBit(kind)] = key
	g.index[id] = int32(len(g.adj[from]))
	g.adj[from] = append(g.adj[from], e)
}

// label returns the strongest kind (ww, then wr, then rw) of the edge
// from -> to, and its key.
func (g *graph) label(from, to int32) (uint8, string) {
	e := g.adj[from][g.index[pairKey(from, to)]]
	for _, k := range []uint8{ww, wr, rw} {
		if e.mask&k != 0 {
			return k, e.keys[kindBit(k)]
		}
	}
	return 0, ""
}

// sccs computes the strongly connected components of the subgraph of edges
// whose mask intersects mask (iterative Tarjan). It returns each node's
// component number and the components of two or more nodes, each sorted,
// ordered by their smallest node.
func (g *graph) sccs(mask uint8) (comp []int32, big [][]int32) {
	n := len(g.adj)
	index := make([]int32, n) // 0 = unvisited, else visit order + 1
	low := make([]int32, n)
	onStack := make([]bool, n)
	comp = make([]int32, n)
	var stack []int32
	type frame struct {
		v  int32
		ei int
	}
	var call []frame
	next := int32(1)
	ncomp := int32(0)
	visit := func(v int32) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		call = append(call, frame{v: v})
	}
	for s := 0; s < n; s++ {
		if index[s] != 0 {
			continue
		}
		visit(int32(s))
		for len(call) > 0 {
			f := &call[len(call)-1]
			v := f.v
			if f.ei < len(g.adj[v]) {
				e := g.adj[v][f.ei]
				f.ei++
				if e.mask&mask == 0 {
					continue
				}
				if w := e.to; index[w] == 0 {
					visit(w)
				} else if onStack[w] && index[w] < low[v] {
					low[v] = index[w]
				}
				continue
			}
			call = call[:len(call)-1]
			if len(call) > 0 {
				if p := call[len(call)-1].v; low[v] < low[p] {
					low[p] = low[v]
				}
			}
			if low[v] != index[v] {
				continue
			}
			i := len(stack) - 1
			for stack[i] != v {
				i--
			}
			members := stack[i:]
			for _, m := range members {
				onStack[m] = false
				comp[m] = ncomp
			}
			if len(members) > 1 {
				c := append([]int32(nil), members...)
				sort.Slice(c, func(a, b int) bool { return c[a] < c[b] })
				big = append(big, c)
			}
			stack = stack[:i]
			ncomp++
		}
	}
	sort.Slice(big, func(a, b int) bool { return big[a][0] < big[b][0] })
	return comp, big
}

// bfs holds reusable breadth-first-search state.
type bfs struct {
	g      *graph
	stamp  []uint32 // visited in search number gen iff stamp == gen
	gen    uint32
	parent []int32
	queue  []int32
}

func newBFS(g *graph) *bfs {
	n := len(g.adj)
	return &bfs{g: g, stamp: make([]uint32, n), parent: make([]int32, n)}
}

// path returns a shortest path [src, ..., dst] of length at least one,
// using edges whose mask intersects mask and staying inside component c of
// comp, or nil if there is none. If dst == src the path is a cycle. Each
// edge examined decrements *budget; the search gives up (returning nil)
// when it reaches zero.
func (s *bfs) path(src, dst int32, mask uint8, comp []int32, c int32, budget *int) []int32 {
	s.gen++
	s.stamp[src] = s.gen
	s.queue = append(s.queue[:0], src)
	for qi := 0; qi < len(s.queue); qi++ {
		u := s.queue[qi]
		for _, e := range s.g.adj[u] {
			if *budget <= 0 {
				return nil
			}
			*budget--
			w := e.to
			if e.mask&mask == 0 || comp[w] != c {
				continue
			}
			if w == dst {
				p := []int32{dst, u}
				for x := u; x != src; {
					x = s.parent[x]
					p = append(p, x)
				}
				for i, j := 0, len(p)-1; i < j; i, j = i+1, j-1 {
					p[i], p[j] = p[j], p[i]
				}
				return p
			}
			if s.stamp[w] == s.gen {
				continue
			}
			s.stamp[w] = s.gen
			s.parent[w] = u
			s.queue = append(s.queue, w)
		}
	}
	return nil
}

// gSingleBudget bounds the number of edges the G-single search examines, so
// that huge strongly connected components cannot make Check quadratic.
// When the budget runs out, Check reports the shortest cycle through one
// node instead (still classified by its own edges).
const gSingleBudget = 1 << 24

// findCycle returns a cycle [n0, ..., n0] of the graph, or nil if it is
// acyclic. It prefers, in order: a cycle of ww edges, a cycle of ww and wr
// edges, a cycle with exactly one rw edge, any cycle.
func (g *graph) findCycle() []int32 {
	comp, big := g.sccs(ww | wr | rw)
	if len(big) == 0 {
		return nil
	}
	s := newBFS(g)
	unlimited := int(^uint(0) >> 1)
	// G0, then G1c: the shortest cycle through the smallest node of the
	// first non-trivial component of the restricted graph.
	for _, mask := range []uint8{ww, ww | wr} {
		c, b := g.sccs(mask)
		if len(b) > 0 {
			budget := unlimited
			if p := s.path(b[0][0], b[0][0], mask, c, c[b[0][0]], &budget); p != nil {
				return p
			}
		}
	}
	// G-single: an rw edge u -> v closed by a ww/wr path v ~> u.
	budget := gSingleBudget
	for _, members := range big {
		for _, u := range members {
			for _, e := range g.adj[u] {
				if e.mask&rw == 0 || comp[e.to] != comp[u] {
					continue
				}
				if p := s.path(e.to, u, ww|wr, comp, comp[u], &budget); p != nil {
					return append([]int32{u}, p...)
				}
				if budget <= 0 {
					break
				}
			}
		}
	}
	// G2: any cycle.
	budget = unlimited
	first := big[0][0]
	return s.path(first, first, ww|wr|rw, comp, comp[first], &budget)
}
