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
	doubleSHANI(&out, &iv, p[:n], pad(&tail, p[n:], uint64(len(p))))
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
	doubleSHANI(&out, &d.h, nil, pad(&tail, d.buf[:d.nbuf], d.len))
	d.Reset()
	return out
}

const blockSize = 64

// pad writes the last bytes of a message of n bytes (fewer than a block)
// and SHA-256's padding into buf, and returns the one or two blocks.
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
