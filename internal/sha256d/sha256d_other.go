//go:build !amd64 || purego

package sha256d

var useSHANI, useAVX512 = false, false

func blocksSHANI(h *[8]uint32, p []byte)                              { panic("sha256d: no SHA-NI") }
func doubleSHANI(out *[Size]byte, h *[8]uint32, head, p, tail []byte) { panic("sha256d: no SHA-NI") }
func nodesSHANI(dst *[Size]byte, src *[2 * Size]byte, n int)          { panic("sha256d: no SHA-NI") }
func blocks2SHANI(ha, hb *[8]uint32, a, b *byte, n int)               { panic("sha256d: no SHA-NI") }
func final2SHANI(outA, outB *[Size]byte, ha, hb *[8]uint32)           { panic("sha256d: no SHA-NI") }
func nodes16AVX512(dst *[Size]byte, src *[2 * Size]byte, n int)       { panic("sha256d: no AVX-512") }
