package trace

// denseIndex maps 32-bit numbers (a reader's transaction numbers, address
// ids) to int32 values of -1 and up, in a table of three levels indexed
// by the number's bits (12, 12, 8), whose pages are allocated on first
// use: a lookup is three array reads where a map would hash and probe.
// A trace touches numbers in runs (the chain's transactions and the
// addresses they create are numbered in chain order, and a trace moves
// forward in time), so a page of 256 values (1 KiB) serves many; the
// worst case, numbers far apart, costs 1 KiB a number (a map, about 16
// bytes). The zero value is empty.
type denseIndex struct {
	top *[1 << 12]*[1 << 12]*densePage
	n   int // numbers set
}

// densePage holds the values + 2 of 256 numbers (0: not set).
type densePage [1 << 8]int32

// get returns the value of k; false when k is not set.
func (d *denseIndex) get(k uint32) (int32, bool) {
	if d.top == nil {
		return 0, false
	}
	mid := d.top[k>>20]
	if mid == nil {
		return 0, false
	}
	p := mid[k>>8&(1<<12-1)]
	if p == nil {
		return 0, false
	}
	v := p[k&(1<<8-1)]
	if v == 0 {
		return 0, false
	}
	return v - 2, true
}

// set sets k to v, which is -1 or more.
func (d *denseIndex) set(k uint32, v int32) {
	if v < -1 {
		panic("trace: denseIndex value below -1")
	}
	if d.top == nil {
		d.top = new([1 << 12]*[1 << 12]*densePage)
	}
	mid := d.top[k>>20]
	if mid == nil {
		mid = new([1 << 12]*densePage)
		d.top[k>>20] = mid
	}
	p := mid[k>>8&(1<<12-1)]
	if p == nil {
		p = new(densePage)
		mid[k>>8&(1<<12-1)] = p
	}
	if p[k&(1<<8-1)] == 0 {
		d.n++
	}
	p[k&(1<<8-1)] = v + 2
}

// len returns how many numbers are set.
func (d *denseIndex) len() int { return d.n }

// reset empties d.
func (d *denseIndex) reset() { *d = denseIndex{} }

// chunks is a list of values kept in pages of 1024 that never move: it
// grows without copying what it holds (a slice appended to grows by a
// quarter, copying everything, and allocates five times its final size
// on the way). A page is an array, so that reading a value checks the
// page's index only. The zero value is empty.
type chunks[T any] struct {
	pages []*[1 << chunkBits]T
	n     int
	spare []*[1 << chunkBits]T // pages to fill before allocating (a finished trace's, scratch)
}

const chunkBits = 10

// add appends v and returns its index.
func (c *chunks[T]) add(v T) int {
	i := c.n
	if i>>chunkBits == len(c.pages) {
		c.pages = append(c.pages, c.page())
	}
	c.pages[i>>chunkBits][i&(1<<chunkBits-1)] = v
	c.n++
	return i
}

// page returns a page to fill: a spare one (add writes each value
// whole, so what it held does not matter), or a new one.
func (c *chunks[T]) page() *[1 << chunkBits]T {
	if k := len(c.spare); k > 0 {
		p := c.spare[k-1]
		c.spare = c.spare[:k-1]
		return p
	}
	return new([1 << chunkBits]T)
}

// reuse gives c pages to fill before it allocates: those used returns of
// a list no longer read.
func (c *chunks[T]) reuse(pages []*[1 << chunkBits]T) { c.spare = pages }

// used returns the pages c filled, dropping those it was given and did
// not need, and empties c: the caller no longer reads what c held.
func (c *chunks[T]) used() []*[1 << chunkBits]T {
	pages := c.pages
	*c = chunks[T]{}
	return pages
}

// at returns the value at index i < len.
func (c *chunks[T]) at(i int) *T { return &c.pages[i>>chunkBits][i&(1<<chunkBits-1)] }

// len returns how many values c holds.
func (c *chunks[T]) len() int { return c.n }

// truncate drops the values from index n on (n ≤ len).
func (c *chunks[T]) truncate(n int) {
	var zero T
	for i := n; i < c.n; i++ {
		*c.at(i) = zero
	}
	c.n = n
}

// segPool keeps arrivals' segments (engine.segs) in pages that never move
// and hold no pointers: an arrival names its segments by a segRef, so
// that the collector scans neither. A run of segments never crosses a
// page. The zero value is empty.
type segPool struct {
	pages [][]seg
	last  []seg   // the page being filled (pages' last)
	spare [][]seg // pages of segPage to fill before allocating (scratch)
}

// segRef is a run of segments in a segPool: n from offset off of page.
type segRef struct{ page, off, n int32 }

const segPage = 4096

// put copies s into the pool and returns where.
func (p *segPool) put(s []seg) segRef {
	if len(p.last)+len(s) > cap(p.last) {
		if k := len(p.spare); k > 0 && len(s) <= segPage {
			p.last = p.spare[k-1][:0]
			p.spare = p.spare[:k-1]
		} else {
			p.last = make([]seg, 0, max(segPage, len(s)))
		}
		p.pages = append(p.pages, p.last)
	}
	off := len(p.last)
	p.last = append(p.last, s...)
	return segRef{page: int32(len(p.pages) - 1), off: int32(off), n: int32(len(s))}
}

// used returns the pool's pages of segPage that it filled (others,
// and the spare pages it did not need, are left to the collector) and
// empties p: the caller no longer reads what p held.
func (p *segPool) used() [][]seg {
	var pages [][]seg
	for _, pg := range p.pages {
		if cap(pg) == segPage {
			pages = append(pages, pg)
		}
	}
	*p = segPool{}
	return pages
}

// get returns the segments r names, capped at their end (an append
// copies them out of the pool).
func (p *segPool) get(r segRef) []seg {
	if r.n == 0 {
		return nil
	}
	pg := p.pages[r.page]
	return pg[r.off : r.off+r.n : r.off+r.n]
}
