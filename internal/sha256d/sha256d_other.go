//go:build !amd64 || purego

package sha256d

var useSHANI, useAVX512 = false, false

// The assembly's stand-ins, never called: useSHANI and useAVX512 are
// false. Each panics only when given work, which keeps static analysis
// from taking them for functions that never return.

func blocksSHANI(h *[8]uint32, p []byte) { missing(h != nil) }

func doubleSHANI(out *[Size]byte, h *[8]uint32, head, p, tail []byte) { missing(out != nil) }

func nodesSHANI(dst *[Size]byte, src *[2 * Size]byte, n int) { missing(n > 0) }

func blocks2SHANI(ha, hb *[8]uint32, a, b *byte, n int) { missing(n > 0) }

func final2SHANI(outA, outB *[Size]byte, ha, hb *[8]uint32) { missing(outA != nil) }

func nodes16AVX512(dst *[Size]byte, src *[2 * Size]byte, n int) { missing(n > 0) }

func missing(work bool) {
	if work {
		panic("sha256d: no assembly for this platform")
	}
}
