//go:build ignore

// asmgen writes sha256d_amd64.s: SHA-256 with the x86 SHA extensions
// (SHA-NI), specialised for Bitcoin's double hashing. Run it with
// go generate (see sha256d_amd64.go).
//
// The round sequence is the one of crypto/sha256's blockSHANI (Go's
// crypto/internal/fips140/sha256/sha256block_amd64.s, BSD licence), itself
// Intel's reference ("Intel SHA Extensions", 2013); what is new here is the
// double hash in one call with the first hash's state fed to the second as
// its message in registers, and the 64-byte input's padding block with its
// whole message schedule precomputed (as Bitcoin Core's SHA256D64 does).
package main

import (
	"bytes"
	"fmt"
	"log"
	"os"
)

var out bytes.Buffer

func p(format string, args ...any) { fmt.Fprintf(&out, "\t"+format+"\n", args...) }
func label(l string)               { fmt.Fprintf(&out, "%s:\n", l) }
func comment(c string)             { fmt.Fprintf(&out, "\n\t// %s\n", c) }

var k = [64]uint32{
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

var iv = [8]uint32{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}

func ror(x uint32, n uint) uint32 { return x>>n | x<<(32-n) }

// padSchedule returns W[i]+K[i] for the padding block of a 64-byte
// message: 0x80000000, 14 zero words, the length 512 in bits.
func padSchedule() [64]uint32 {
	var w [64]uint32
	w[0], w[15] = 0x80000000, 512
	for i := 16; i < 64; i++ {
		s0 := ror(w[i-15], 7) ^ ror(w[i-15], 18) ^ w[i-15]>>3
		s1 := ror(w[i-2], 17) ^ ror(w[i-2], 19) ^ w[i-2]>>10
		w[i] = w[i-16] + s0 + w[i-7] + s1
	}
	for i := range w {
		w[i] += k[i]
	}
	return w
}

func data(name string, words []uint32) {
	for i := 0; i < len(words); i += 2 {
		fmt.Fprintf(&out, "DATA %s<>+%d(SB)/8, $0x%08x%08x\n", name, 4*i, words[i+1], words[i])
	}
	fmt.Fprintf(&out, "GLOBL %s<>(SB), RODATA|NOPTR, $%d\n\n", name, 4*len(words))
}

// Registers: X1, X2 the state (ABEF, CDGH), X3-X6 the message schedule,
// X0 and X7 scratch, X8 the byte-order mask, X9, X10 the state before
// the block. msg(g) is the schedule register of round group g.
func msg(g int) string { return fmt.Sprintf("X%d", 3+g%4) }

// rounds emits the 64 rounds of one block. For the first four groups,
// load(g) leaves the message words of group g in X0 and msg(g).
func rounds(load func(g int)) {
	for g := range 16 {
		if g < 4 {
			load(g)
		} else {
			p("MOVO %s, X0", msg(g))
		}
		p("PADDD K256<>+%d(SB), X0", 16*g)
		p("SHA256RNDS2 X0, X1, X2")
		if g >= 3 && g <= 14 {
			p("MOVO %s, X7", msg(g))
			p("PALIGNR $4, %s, X7", msg(g-1))
			p("PADDD X7, %s", msg(g+1))
			p("SHA256MSG2 %s, %s", msg(g), msg(g+1))
		}
		p("PSHUFD $0x0e, X0, X0")
		p("SHA256RNDS2 X0, X2, X1")
		if g >= 1 && g <= 12 {
			p("SHA256MSG1 %s, %s", msg(g), msg(g-1))
		}
	}
}

// block emits one block's compression of the 64 bytes at off(reg).
func block(reg string, off int) {
	p("MOVO X1, X9")
	p("MOVO X2, X10")
	rounds(func(g int) {
		p("MOVOU %d(%s), X0", off+16*g, reg)
		p("PSHUFB X8, X0")
		p("MOVO X0, %s", msg(g))
	})
	p("PADDD X9, X1")
	p("PADDD X10, X2")
}

// padBlock emits the compression of the padding block of a 64-byte
// message, whose schedule is the constant table PAD64.
func padBlock() {
	p("MOVO X1, X9")
	p("MOVO X2, X10")
	for g := range 16 {
		p("MOVO PAD64<>+%d(SB), X0", 16*g)
		p("SHA256RNDS2 X0, X1, X2")
		p("PSHUFD $0x0e, X0, X0")
		p("SHA256RNDS2 X0, X2, X1")
	}
	p("PADDD X9, X1")
	p("PADDD X10, X2")
}

// toNative turns the state in X1, X2 from h[0..3], h[4..7] to the
// instructions' ABEF, CDGH.
func toNative() {
	p("PSHUFD $0xb1, X1, X1")
	p("PSHUFD $0x1b, X2, X2")
	p("MOVO X1, X7")
	p("PALIGNR $8, X2, X1")
	p("PBLENDW $0xf0, X7, X2")
}

// fromNative is toNative's inverse.
func fromNative() {
	p("PSHUFD $0x1b, X1, X1")
	p("PSHUFD $0xb1, X2, X2")
	p("MOVO X1, X7")
	p("PBLENDW $0xf0, X2, X1")
	p("PALIGNR $8, X7, X2")
}

func loadIV() {
	p("MOVO IV<>+0(SB), X1")
	p("MOVO IV<>+16(SB), X2")
	toNative()
}

// second emits the second hash: the first hash's state in X1, X2 is the
// message (its words are the digest's big-endian words), then padding
// for 32 bytes; the digest is stored at 0(reg).
func second(reg string) {
	fromNative()
	p("MOVO X1, X3")
	p("MOVO X2, X4")
	loadIV()
	p("MOVO X1, X9")
	p("MOVO X2, X10")
	rounds(func(g int) {
		switch g {
		case 2:
			p("MOVO PAD32<>+0(SB), X5")
		case 3:
			p("MOVO PAD32<>+16(SB), X6")
		}
		p("MOVO %s, X0", msg(g))
	})
	p("PADDD X9, X1")
	p("PADDD X10, X2")
	fromNative()
	p("PSHUFB X8, X1")
	p("PSHUFB X8, X2")
	p("MOVOU X1, 0(%s)", reg)
	p("MOVOU X2, 16(%s)", reg)
}

// A stream is one of two double hashes computed together: SHA256RNDS2's
// latency leaves room for a second chain of rounds. Each stream has its
// own state (s0, s1), schedule (m) and scratch (t) registers; X0, the
// round instruction's implicit operand, is shared, so each write to X0
// and the round that reads it stay together in one unit, and the units
// of the two streams are emitted alternately.
type stream struct {
	s0, s1, t string
	m         [4]string
	units     [][]string
}

func (s *stream) u(instrs ...string) { s.units = append(s.units, instrs) }

func (s *stream) msg(g int) string { return s.m[g%4] }

// rounds is the stream's 64 rounds; load(g) leaves group g's message
// words in s.msg(g) for the first four groups. The schedule update comes
// after the group's two rounds, so that t is free for it.
func (s *stream) rounds(load func(g int)) {
	for g := range 16 {
		if g < 4 {
			load(g)
		}
		s.u("MOVO "+s.msg(g)+", "+s.t, fmt.Sprintf("PADDD K256<>+%d(SB), %s", 16*g, s.t))
		s.u("MOVO "+s.t+", X0", "SHA256RNDS2 X0, "+s.s0+", "+s.s1)
		s.u("PSHUFD $0x0e, "+s.t+", X0", "SHA256RNDS2 X0, "+s.s1+", "+s.s0)
		if g >= 3 && g <= 14 {
			s.u("MOVO "+s.msg(g)+", "+s.t, "PALIGNR $4, "+s.msg(g-1)+", "+s.t)
			s.u("PADDD "+s.t+", "+s.msg(g+1), "SHA256MSG2 "+s.msg(g)+", "+s.msg(g+1))
		}
		if g >= 1 && g <= 12 {
			s.u("SHA256MSG1 " + s.msg(g) + ", " + s.msg(g-1))
		}
	}
}

func (s *stream) fromNative() {
	s.u("PSHUFD $0x1b, "+s.s0+", "+s.s0, "PSHUFD $0xb1, "+s.s1+", "+s.s1)
	s.u("MOVO "+s.s0+", "+s.t, "PBLENDW $0xf0, "+s.s1+", "+s.s0, "PALIGNR $8, "+s.t+", "+s.s1)
}

// node emits the double hash of the 64 bytes at src, stored at dst; save
// is where the state after the first block is kept (32 bytes).
func (s *stream) node(src, dst, save string) {
	s.u("MOVO IVN<>+0(SB), "+s.s0, "MOVO IVN<>+16(SB), "+s.s1)
	s.rounds(func(g int) {
		s.u(fmt.Sprintf("MOVOU %d%s, %s", 16*g, src, s.msg(g)), "PSHUFB X8, "+s.msg(g))
	})
	s.u("PADDD IVN<>+0(SB), "+s.s0, "PADDD IVN<>+16(SB), "+s.s1)
	s.u("MOVOU "+s.s0+", 0+"+save, "MOVOU "+s.s1+", 16+"+save)
	for g := range 16 {
		s.u(fmt.Sprintf("MOVO PAD64<>+%d(SB), X0", 16*g), "SHA256RNDS2 X0, "+s.s0+", "+s.s1)
		s.u(fmt.Sprintf("MOVO PAD64<>+%d(SB), X0", 16*g), "PSHUFD $0x0e, X0, X0", "SHA256RNDS2 X0, "+s.s1+", "+s.s0)
	}
	s.u("MOVOU 0+"+save+", "+s.t, "PADDD "+s.t+", "+s.s0)
	s.u("MOVOU 16+"+save+", "+s.t, "PADDD "+s.t+", "+s.s1)
	// The second hash: the first's digest words are its message.
	s.fromNative()
	s.u("MOVO "+s.s0+", "+s.m[0], "MOVO "+s.s1+", "+s.m[1])
	s.second(dst)
}

// second emits the second hash of a digest whose words are in m[0] and
// m[1] (in order), stored at dst.
func (s *stream) second(dst string) {
	s.u("MOVO IVN<>+0(SB), "+s.s0, "MOVO IVN<>+16(SB), "+s.s1)
	s.rounds(func(g int) {
		switch g {
		case 2:
			s.u("MOVO PAD32<>+0(SB), " + s.m[2])
		case 3:
			s.u("MOVO PAD32<>+16(SB), " + s.m[3])
		}
	})
	s.u("PADDD IVN<>+0(SB), "+s.s0, "PADDD IVN<>+16(SB), "+s.s1)
	s.fromNative()
	s.u("PSHUFB X8, "+s.s0, "PSHUFB X8, "+s.s1)
	s.u("MOVOU "+s.s0+", 0"+dst, "MOVOU "+s.s1+", 16"+dst)
}

func (s *stream) toNative() {
	s.u("PSHUFD $0xb1, "+s.s0+", "+s.s0, "PSHUFD $0x1b, "+s.s1+", "+s.s1)
	s.u("MOVO "+s.s0+", "+s.t, "PALIGNR $8, "+s.s1+", "+s.s0, "PBLENDW $0xf0, "+s.t+", "+s.s1)
}

// compress emits the compression of the block at src into the state,
// kept at save (32 bytes) for the feed-forward.
func (s *stream) compress(src, save string) {
	s.u("MOVOU "+s.s0+", 0+"+save, "MOVOU "+s.s1+", 16+"+save)
	s.rounds(func(g int) {
		s.u(fmt.Sprintf("MOVOU %d%s, %s", 16*g, src, s.msg(g)), "PSHUFB X8, "+s.msg(g))
	})
	s.u("MOVOU 0+"+save+", "+s.t, "PADDD "+s.t+", "+s.s0)
	s.u("MOVOU 16+"+save+", "+s.t, "PADDD "+s.t+", "+s.s1)
}

// interleave emits the units of a and b alternately.
func interleave(a, b *stream) {
	if len(a.units) != len(b.units) {
		log.Fatal("streams of different shapes")
	}
	for i := range a.units {
		for _, in := range a.units[i] {
			p("%s", in)
		}
		for _, in := range b.units[i] {
			p("%s", in)
		}
	}
}

// streams returns the two streams' registers.
func streams() (a, b *stream) {
	a = &stream{s0: "X1", s1: "X2", t: "X7", m: [4]string{"X3", "X4", "X5", "X6"}}
	b = &stream{s0: "X9", s1: "X10", t: "X15", m: [4]string{"X11", "X12", "X13", "X14"}}
	return a, b
}

// native returns the state h in the instructions' layout: ABEF, CDGH as
// lanes 3..0.
func native(h [8]uint32) []uint32 {
	return []uint32{h[5], h[4], h[1], h[0], h[7], h[6], h[3], h[2]}
}

// The AVX-512 path hashes 16 merkle nodes at once, one in each 32-bit
// lane of the Z registers (Bitcoin Core's SHA256D64 does 8 with AVX2):
// plain SHA-256 rounds in vector instructions, no SHA-NI. Registers: the
// state in Z0-Z7 (renamed each round rather than moved), the message
// schedule in avxW (a ring of 16), scratch Z24-Z26, the byte-order mask
// Z27, the gather and scatter offsets Z28 (64 bytes a lane) and Z29 (32
// bytes a lane).
var avxW = func() (w [16]string) {
	for i := range w {
		w[i] = fmt.Sprintf("Z%d", 8+i)
	}
	return w
}()

// avxSigma adds to dst x rotated right by r1 xor x rotated right by r2
// xor x rotated (op VPRORD) or shifted (VPSRLD) right by r3: SHA-256's
// Σ and σ functions.
func avxSigma(dst, x string, r1, r2 int, op string, r3 int) {
	p("VPRORD $%d, %s, Z24", r1, x)
	p("VPRORD $%d, %s, Z25", r2, x)
	p("%s $%d, %s, Z26", op, r3, x)
	p("VPTERNLOGD $0x96, Z26, Z25, Z24")
	p("VPADDD Z24, %s, %s", dst, dst)
}

// avxTernary adds to dst the bitwise function with truth table imm of x,
// y, z: Ch is 0xca, Maj 0xe8.
func avxTernary(dst string, imm int, x, y, z string) {
	p("VMOVDQA32 %s, Z24", x)
	p("VPTERNLOGD $0x%02x, %s, %s, Z24", imm, z, y)
	p("VPADDD Z24, %s, %s", dst, dst)
}

// avxRounds emits 64 rounds on the state st (renamed in place); w(i)
// returns the register holding W[i], or "" when W[i]+K[i] is the
// constant at wk(i) (else K[i]).
func avxRounds(st *[8]string, w func(i int) string, wk func(i int) string) {
	for i := range 64 {
		a, b, c, d, e, f, g, h := st[0], st[1], st[2], st[3], st[4], st[5], st[6], st[7]
		avxSigma(h, e, 6, 11, "VPRORD", 25)
		avxTernary(h, 0xca, e, f, g)
		if r := w(i); r != "" {
			p("VPADDD %s, %s, %s", r, h, h)
		}
		p("VPADDD.BCST %s, %s, %s", wk(i), h, h)
		p("VPADDD %s, %s, %s", h, d, d)
		avxSigma(h, a, 2, 13, "VPRORD", 22)
		avxTernary(h, 0xe8, a, b, c)
		*st = [8]string{h, a, b, c, d, e, f, g}
	}
}

// avxSchedule returns w for avxRounds over the ring avxW, whose first 16
// words are loaded: W[i] for i >= 16 is computed when asked for.
func avxSchedule(i int) string {
	r := avxW[i%16]
	if i >= 16 {
		avxSigma(r, avxW[(i-15)%16], 7, 18, "VPSRLD", 3)
		avxSigma(r, avxW[(i-2)%16], 17, 19, "VPSRLD", 10)
		p("VPADDD %s, %s, %s", avxW[(i-7)%16], r, r)
	}
	return r
}

func avxK(i int) string { return fmt.Sprintf("K256<>+%d(SB)", 4*i) }

func avxNodes() {
	out.WriteString("\n// func nodes16AVX512(dst *[32]byte, src *[64]byte, n int)\nTEXT ·nodes16AVX512(SB), NOSPLIT, $512-24\n")
	p("MOVQ dst+0(FP), DI")
	p("MOVQ src+8(FP), SI")
	p("MOVQ n+16(FP), DX")
	p("SHRQ $4, DX")
	p("JEQ avxDone")
	p("VMOVDQU32 FLIP16<>+0(SB), Z27")
	p("VMOVDQU32 LANES64<>+0(SB), Z28")
	p("VMOVDQU32 LANES32<>+0(SB), Z29")
	label("avxLoop")
	st := [8]string{"Z0", "Z1", "Z2", "Z3", "Z4", "Z5", "Z6", "Z7"}
	comment("the 16 nodes' words, W[j] of every lane in avxW[j]")
	for j := range 16 {
		p("KXNORW K0, K0, K1")
		p("VPGATHERDD %d(SI)(Z28*1), K1, %s", 4*j, avxW[j])
		p("VPSHUFB Z27, %s, %s", avxW[j], avxW[j])
	}
	for j := range 8 {
		p("VPBROADCASTD IV<>+%d(SB), %s", 4*j, st[j])
	}
	avxRounds(&st, avxSchedule, avxK)
	for j := range 8 {
		p("VPADDD.BCST IV<>+%d(SB), %s, %s", 4*j, st[j], st[j])
		p("VMOVDQU32 %s, %d(SP)", st[j], 64*j)
	}
	comment("the padding block: its schedule is the constant PAD64")
	avxRounds(&st, func(int) string { return "" }, func(i int) string { return fmt.Sprintf("PAD64<>+%d(SB)", 4*i) })
	for j := range 8 {
		p("VPADDD %d(SP), %s, %s", 64*j, st[j], st[j])
	}
	comment("the second hash: the digest's words, then the padding of 32 bytes")
	for j := range 8 {
		p("VMOVDQA32 %s, %s", st[j], avxW[j])
		p("VPBROADCASTD IV<>+%d(SB), %s", 4*j, st[j])
	}
	p("VPBROADCASTD PAD32<>+0(SB), %s", avxW[8])
	for j := 9; j < 15; j++ {
		p("VPXORD %s, %s, %s", avxW[j], avxW[j], avxW[j])
	}
	p("VPBROADCASTD PAD32<>+28(SB), %s", avxW[15])
	avxRounds(&st, avxSchedule, avxK)
	for j := range 8 {
		p("VPADDD.BCST IV<>+%d(SB), %s, %s", 4*j, st[j], st[j])
		p("VPSHUFB Z27, %s, %s", st[j], st[j])
		p("KXNORW K0, K0, K1")
		p("VPSCATTERDD %s, K1, %d(DI)(Z29*1)", st[j], 4*j)
	}
	p("ADDQ $1024, SI")
	p("ADDQ $512, DI")
	p("DECQ DX")
	p("JNE avxLoop")
	p("VZEROUPPER")
	label("avxDone")
	p("RET")
}

func main() {
	out.WriteString("// Code generated by asmgen.go; DO NOT EDIT.\n\n//go:build amd64 && !purego\n\n#include \"textflag.h\"\n\n")
	data("K256", k[:])
	data("IV", iv[:])
	data("IVN", native(iv))
	pad := padSchedule()
	data("PAD64", pad[:])
	data("PAD32", []uint32{0x80000000, 0, 0, 0, 0, 0, 0, 256})
	data("FLIP", []uint32{0x00010203, 0x04050607, 0x08090a0b, 0x0c0d0e0f})
	var flip16, lanes64, lanes32 []uint32
	for i := range 16 {
		flip16 = append(flip16, 0x00010203+0x04040404*uint32(i%4))
		lanes64 = append(lanes64, uint32(64*i))
		lanes32 = append(lanes32, uint32(32*i))
	}
	data("FLIP16", flip16)
	data("LANES64", lanes64)
	data("LANES32", lanes32)

	out.WriteString("// func blocksSHANI(h *[8]uint32, p []byte)\nTEXT ·blocksSHANI(SB), NOSPLIT, $0-32\n")
	p("MOVQ h+0(FP), DI")
	p("MOVQ p_base+8(FP), SI")
	p("MOVQ p_len+16(FP), DX")
	p("SHRQ $6, DX")
	p("SHLQ $6, DX")
	p("JEQ blocksDone")
	p("ADDQ SI, DX")
	p("MOVOU 0(DI), X1")
	p("MOVOU 16(DI), X2")
	toNative()
	p("MOVO FLIP<>+0(SB), X8")
	label("blocksLoop")
	block("SI", 0)
	p("ADDQ $64, SI")
	p("CMPQ SI, DX")
	p("JNE blocksLoop")
	fromNative()
	p("MOVOU X1, 0(DI)")
	p("MOVOU X2, 16(DI)")
	label("blocksDone")
	p("RET")

	out.WriteString("\n// func doubleSHANI(out *[32]byte, h *[8]uint32, head, p, tail []byte)\nTEXT ·doubleSHANI(SB), NOSPLIT, $0-88\n")
	comment("the segments, whole blocks each: SI-DX the one being hashed, then R8-R9, then R11-R12; R10 counts those left")
	segment := func(base, end string, off int) {
		p("MOVQ %s_base+%d(FP), %s", []string{"head", "p", "tail"}[(off-16)/24], off, base)
		p("MOVQ %s_len+%d(FP), %s", []string{"head", "p", "tail"}[(off-16)/24], off+8, end)
		p("SHRQ $6, %s", end)
		p("SHLQ $6, %s", end)
		p("ADDQ %s, %s", base, end)
	}
	segment("SI", "DX", 16)
	segment("R8", "R9", 40)
	segment("R11", "R12", 64)
	p("MOVQ $2, R10")
	p("MOVQ h+8(FP), DI")
	p("MOVOU 0(DI), X1")
	p("MOVOU 16(DI), X2")
	toNative()
	p("MOVO FLIP<>+0(SB), X8")
	label("doubleLoop")
	p("CMPQ SI, DX")
	p("JNE doubleBlock")
	p("CMPQ R10, $0")
	p("JEQ doubleSecond")
	p("DECQ R10")
	p("MOVQ R8, SI")
	p("MOVQ R9, DX")
	p("MOVQ R11, R8")
	p("MOVQ R12, R9")
	p("JMP doubleLoop")
	label("doubleBlock")
	block("SI", 0)
	p("ADDQ $64, SI")
	p("JMP doubleLoop")
	label("doubleSecond")
	p("MOVQ out+0(FP), DI")
	second("DI")
	p("RET")

	out.WriteString("\n// func nodesSHANI(dst *[32]byte, src *[64]byte, n int)\nTEXT ·nodesSHANI(SB), NOSPLIT, $64-24\n")
	p("MOVQ dst+0(FP), DI")
	p("MOVQ src+8(FP), SI")
	p("MOVQ n+16(FP), DX")
	p("MOVO FLIP<>+0(SB), X8")
	comment("two nodes at a time")
	label("nodesPair")
	p("CMPQ DX, $2")
	p("JLT nodesOne")
	a, b := streams()
	a.node("(SI)", "(DI)", "0(SP)")
	b.node("+64(SI)", "+32(DI)", "32(SP)")
	interleave(a, b)
	p("ADDQ $128, SI")
	p("ADDQ $64, DI")
	p("SUBQ $2, DX")
	p("JMP nodesPair")
	label("nodesOne")
	p("CMPQ DX, $0")
	p("JEQ nodesDone")
	loadIV()
	block("SI", 0)
	padBlock()
	second("DI")
	label("nodesDone")
	p("RET")

	out.WriteString("\n// func blocks2SHANI(ha, hb *[8]uint32, a, b *byte, n int)\nTEXT ·blocks2SHANI(SB), NOSPLIT, $64-40\n")
	p("MOVQ ha+0(FP), AX")
	p("MOVQ hb+8(FP), BX")
	p("MOVQ a+16(FP), SI")
	p("MOVQ b+24(FP), DI")
	p("MOVQ n+32(FP), DX")
	p("MOVO FLIP<>+0(SB), X8")
	a, b = streams()
	a.u("MOVOU 0(AX), X1", "MOVOU 16(AX), X2")
	b.u("MOVOU 0(BX), X9", "MOVOU 16(BX), X10")
	a.toNative()
	b.toNative()
	interleave(a, b)
	p("CMPQ DX, $0")
	p("JEQ blocks2Store")
	label("blocks2Loop")
	a, b = streams()
	a.compress("(SI)", "0(SP)")
	b.compress("(DI)", "32(SP)")
	interleave(a, b)
	p("ADDQ $64, SI")
	p("ADDQ $64, DI")
	p("DECQ DX")
	p("JNE blocks2Loop")
	label("blocks2Store")
	a, b = streams()
	a.fromNative()
	b.fromNative()
	a.u("MOVOU X1, 0(AX)", "MOVOU X2, 16(AX)")
	b.u("MOVOU X9, 0(BX)", "MOVOU X10, 16(BX)")
	interleave(a, b)
	p("RET")

	out.WriteString("\n// func final2SHANI(outA, outB *[32]byte, ha, hb *[8]uint32)\nTEXT ·final2SHANI(SB), NOSPLIT, $0-32\n")
	p("MOVQ outA+0(FP), SI")
	p("MOVQ outB+8(FP), DI")
	p("MOVQ ha+16(FP), AX")
	p("MOVQ hb+24(FP), BX")
	p("MOVO FLIP<>+0(SB), X8")
	a, b = streams()
	a.u("MOVOU 0(AX), X3", "MOVOU 16(AX), X4")
	b.u("MOVOU 0(BX), X11", "MOVOU 16(BX), X12")
	a.second("(SI)")
	b.second("(DI)")
	interleave(a, b)
	p("RET")

	avxNodes()

	out.WriteString("\n// func cpuid(leaf, sub uint32) (a, b, c, d uint32)\nTEXT ·cpuid(SB), NOSPLIT, $0-24\n")
	p("MOVL leaf+0(FP), AX")
	p("MOVL sub+4(FP), CX")
	p("CPUID")
	p("MOVL AX, a+8(FP)")
	p("MOVL BX, b+12(FP)")
	p("MOVL CX, c+16(FP)")
	p("MOVL DX, d+20(FP)")
	p("RET")

	if err := os.WriteFile("sha256d_amd64.s", out.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
