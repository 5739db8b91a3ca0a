//go:build amd64 && !purego

package sha256d

import "golang.org/x/sys/cpu"

//go:generate go run asmgen.go

// useSHANI tells whether the assembly runs; tests turn it off to check the
// fallback on the same machine.
var useSHANI = cpu.X86.HasSSE41 && cpu.X86.HasSSSE3 && hasSHA()

// hasSHA reports whether the CPU has the SHA extensions (CPUID leaf 7,
// EBX bit 29), which golang.org/x/sys/cpu does not report.
func hasSHA() bool {
	if maxLeaf, _, _, _ := cpuid(0, 0); maxLeaf < 7 {
		return false
	}
	_, b, _, _ := cpuid(7, 0)
	return b&(1<<29) != 0
}

func cpuid(leaf, sub uint32) (a, b, c, d uint32)

// blocksSHANI compresses the whole 64-byte blocks of p into h.
//
//go:noescape
func blocksSHANI(h *[8]uint32, p []byte)

// doubleSHANI compresses the whole blocks of head, p and tail (the padded
// end of the message), in that order, into a copy of h, and stores the
// SHA-256 of the resulting digest in out.
//
//go:noescape
func doubleSHANI(out *[Size]byte, h *[8]uint32, head, p, tail []byte)

// nodesSHANI stores the double SHA-256 of src[i] in dst[i] for i < n.
//
//go:noescape
func nodesSHANI(dst *[Size]byte, src *[2 * Size]byte, n int)

// blocks2SHANI compresses n blocks at a into ha and n blocks at b into
// hb, the two interleaved.
//
//go:noescape
func blocks2SHANI(ha, hb *[8]uint32, a, b *byte, n int)

// final2SHANI stores the SHA-256 of the digests ha and hb (states after
// the first hash's last block) in outA and outB.
//
//go:noescape
func final2SHANI(outA, outB *[Size]byte, ha, hb *[8]uint32)

// useAVX512 tells whether Nodes hashes 16 nodes at a time with AVX-512.
var useAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW

// nodes16AVX512 stores the double SHA-256 of src[i] in dst[i] for i < n
// rounded down to a multiple of 16, 16 at a time.
//
//go:noescape
func nodes16AVX512(dst *[Size]byte, src *[2 * Size]byte, n int)
