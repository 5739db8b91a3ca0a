package sha256d

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"unsafe"
)

// Size is the size of a double SHA-256 in bytes.
const Size = sha256.Size

// iv is SHA-256's initial state.
var iv = [8]uint32{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}

// Sum returns SHA-256(SHA-256(p)). It does not allocate.
func Sum(p []byte) [Size]byte {
	if !useSHANI {
		first := sha256.Sum256(p)
		return sha256.Sum256(first[:])
	}
	var out [Size]byte
	var tail [2 * blockSize]byte
	n := len(p) &^ (blockSize - 1)
	doubleSHANI(&out, &iv, nil, p[:n], pad(&tail, p[n:], uint64(len(p))))
	return out
}

// Nodes sets dst[i] to the double SHA-256 of src[2i] || src[2i+1], the
// nodes of a merkle tree's next level, for i < len(src)/2; an odd last
// element of src is left alone. dst may be src itself (its front half is
// then overwritten in order); otherwise dst must not overlap src. It
// panics if dst is shorter than len(src)/2.
func Nodes[H ~[Size]byte](dst, src []H) {
	n := len(src) / 2
	if n == 0 {
		return
	}
	_ = dst[n-1]
	if k := n &^ 15; useAVX512 && k > 0 {
		// In place, writing dst[:k] leaves src[2k:] as it was.
		nodes16AVX512((*[Size]byte)(unsafe.Pointer(&dst[0])), (*[2 * Size]byte)(unsafe.Pointer(&src[0])), k)
		if dst, src, n = dst[k:], src[2*k:], n-k; n == 0 {
			return
		}
	}
	if useSHANI {
		nodesSHANI((*[Size]byte)(unsafe.Pointer(&dst[0])), (*[2 * Size]byte)(unsafe.Pointer(&src[0])), n)
		return
	}
	var pair [2 * Size]byte
	for i := range n {
		copy(pair[:Size], src[2*i][:])
		copy(pair[Size:], src[2*i+1][:])
		dst[i] = Sum(pair[:])
	}
}

// Double computes a double SHA-256 over bytes written in parts, reusing
// its state: a segwit txid hashes a transaction without its witness,
// which is not contiguous in the block. The zero value is ready; a Double
// must not be copied after first use.
type Double struct {
	h     [8]uint32
	buf   [blockSize]byte
	nbuf  int
	len   uint64
	ready bool      // h holds a state: the zero Double has not
	slow  hash.Hash // crypto/sha256's, without SHA-NI
	mid   [Size]byte
}

// Reset starts a new hash.
func (d *Double) Reset() {
	d.h, d.nbuf, d.len, d.ready = iv, 0, 0, true
	if d.slow != nil {
		d.slow.Reset()
	}
}

// Write adds p to the bytes hashed.
func (d *Double) Write(p []byte) {
	if !useSHANI {
		if d.slow == nil {
			d.slow = sha256.New()
		}
		d.slow.Write(p)
		return
	}
	if !d.ready {
		d.Reset()
	}
	d.len += uint64(len(p))
	if d.nbuf > 0 {
		k := copy(d.buf[d.nbuf:], p)
		d.nbuf += k
		p = p[k:]
		if d.nbuf < blockSize {
			return
		}
		blocksSHANI(&d.h, d.buf[:])
		d.nbuf = 0
	}
	if n := len(p) &^ (blockSize - 1); n > 0 {
		blocksSHANI(&d.h, p[:n])
		p = p[n:]
	}
	d.nbuf = copy(d.buf[:], p)
}

// Sum returns the double SHA-256 of the bytes written since the last
// Reset, and resets d.
func (d *Double) Sum() [Size]byte {
	var out [Size]byte
	if !useSHANI {
		if d.slow == nil {
			d.slow = sha256.New()
		}
		d.slow.Sum(d.mid[:0])
		d.slow.Reset()
		d.slow.Write(d.mid[:])
		d.slow.Sum(d.mid[:0])
		d.Reset()
		return d.mid
	}
	if !d.ready {
		d.Reset()
	}
	var tail [2 * blockSize]byte
	doubleSHANI(&out, &d.h, nil, nil, pad(&tail, d.buf[:d.nbuf], d.len))
	d.Reset()
	return out
}

// Sum3 returns SHA-256(SHA-256(a || b || c)), and resets d: a segwit
// txid, the transaction's version, its inputs and outputs, and its lock
// time. With SHA-NI it is one assembly call when a is shorter than a block
// and c shorter than 56 bytes (a txid's 4 and 4 are).
func (d *Double) Sum3(a, b, c []byte) [Size]byte {
	var head [blockSize]byte
	var tail [2 * blockSize]byte
	runs, ok := split(&head, &tail, a, b, c)
	if !ok {
		d.Reset()
		d.Write(a)
		d.Write(b)
		d.Write(c)
		return d.Sum()
	}
	var out [Size]byte
	doubleSHANI(&out, &iv, runs[0], runs[1], runs[2])
	return out
}

// Sum3Pair returns what Sum3 returns for the parts of x and for the parts
// of y, and resets d. With SHA-NI the two are hashed together, their
// rounds interleaved: a round's latency leaves room for another's.
func (d *Double) Sum3Pair(x, y *[3][]byte) (hx, hy [Size]byte) {
	var headX, headY [blockSize]byte
	var tailX, tailY [2 * blockSize]byte
	rx, okX := split(&headX, &tailX, x[0], x[1], x[2])
	ry, okY := split(&headY, &tailY, y[0], y[1], y[2])
	if !okX || !okY {
		return d.Sum3(x[0], x[1], x[2]), d.Sum3(y[0], y[1], y[2])
	}
	sx, sy := iv, iv
	i, j := 0, 0
	for {
		for i < len(rx) && len(rx[i]) == 0 {
			i++
		}
		for j < len(ry) && len(ry[j]) == 0 {
			j++
		}
		if i == len(rx) || j == len(ry) {
			break
		}
		n := min(len(rx[i]), len(ry[j])) / blockSize
		blocks2SHANI(&sx, &sy, &rx[i][0], &ry[j][0], n)
		rx[i], ry[j] = rx[i][n*blockSize:], ry[j][n*blockSize:]
	}
	for ; i < len(rx); i++ {
		blocksSHANI(&sx, rx[i])
	}
	for ; j < len(ry); j++ {
		blocksSHANI(&sy, ry[j])
	}
	final2SHANI(&hx, &hy, &sx, &sy)
	return hx, hy
}

// split lays a || b || c out as whole blocks for the assembly: the first
// block (a and the front of b, copied into head) or none, the blocks
// within b, and the last bytes with the padding (copied into tail). It
// returns false without SHA-NI, or when a is a block or longer or c
// longer than 55 bytes.
func split(head *[blockSize]byte, tail *[2 * blockSize]byte, a, b, c []byte) ([3][]byte, bool) {
	if !useSHANI || len(a) >= blockSize || len(c) > blockSize-9 {
		return [3][]byte{}, false
	}
	n := uint64(len(a) + len(b) + len(c))
	if len(a)+len(b) < blockSize {
		k := copy(tail[:], a)
		k += copy(tail[k:], b)
		k += copy(tail[k:], c)
		return [3][]byte{nil, nil, pad(tail, tail[:k], n)}, true
	}
	var first []byte
	if len(a) > 0 {
		k := copy(head[:], a)
		b = b[copy(head[k:], b):]
		first = head[:]
	}
	m := len(b) &^ (blockSize - 1)
	k := copy(tail[:], b[m:])
	k += copy(tail[k:], c)
	return [3][]byte{first, b[:m], pad(tail, tail[:k], n)}, true
}

const blockSize = 64

// pad appends SHA-256's padding for a message of n bytes to its last
// bytes, which buf may already hold (fewer than 2*blockSize-8), and
// returns the one or two blocks. buf must be zero after them.
func pad(buf *[2 * blockSize]byte, last []byte, n uint64) []byte {
	k := copy(buf[:], last)
	buf[k] = 0x80
	end := blockSize
	if k >= blockSize-8 {
		end = 2 * blockSize
	}
	binary.BigEndian.PutUint64(buf[end-8:], n<<3)
	return buf[:end]
}
