package sha256d

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"testing"
)

// ref is the double SHA-256 with crypto/sha256.
func ref(p []byte) [Size]byte {
	first := sha256.Sum256(p)
	return sha256.Sum256(first[:])
}

// paths runs f with each implementation this CPU has: AVX-512 for merkle
// nodes with SHA-NI for the rest, SHA-NI alone, and the fallback.
func paths(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	shani, avx := useSHANI, useAVX512
	defer func() { useSHANI, useAVX512 = shani, avx }()
	for _, c := range []struct {
		name       string
		shani, avx bool
	}{{"avx512", shani, true}, {"shani", true, false}, {"fallback", false, false}} {
		if c.shani && !shani || c.avx && !avx {
			t.Logf("%s: not on this CPU, not tested", c.name)
			continue
		}
		useSHANI, useAVX512 = c.shani, c.avx
		t.Run(c.name, f)
	}
}

func unhex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// reversed returns a hash as Bitcoin displays it: bytes reversed.
func reversed(h [Size]byte) string {
	slices.Reverse(h[:])
	return hex.EncodeToString(h[:])
}

func TestSumVectors(t *testing.T) {
	tests := []struct {
		name, in, want string // want as Bitcoin displays it, except where noted
	}{
		// Known double SHA-256 values, in hash byte order (not reversed).
		{"empty", "", "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456"},
		{"hello", hex.EncodeToString([]byte("hello")), "9595c9df90075148eb06860365df33584b75bff782a510c6cd4883a419833d50"},
		// The genesis block's header and its block hash.
		{"genesis header", "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c",
			"000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"},
		// The genesis coinbase and its txid (= the genesis merkle root).
		{"genesis coinbase", "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000",
			"4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"},
	}
	paths(t, func(t *testing.T) {
		for _, tc := range tests {
			got := Sum(unhex(t, tc.in))
			s := reversed(got)
			if tc.name == "empty" || tc.name == "hello" {
				s = hex.EncodeToString(got[:])
			}
			if s != tc.want {
				t.Errorf("%s: Sum = %s, want %s", tc.name, s, tc.want)
			}
			var d Double
			d.Reset()
			d.Write(unhex(t, tc.in))
			if got := d.Sum(); got != Sum(unhex(t, tc.in)) {
				t.Errorf("%s: Double.Sum = %x, want Sum's", tc.name, got)
			}
		}
	})
}

// TestNodesBlock100000 computes the merkle root of block 100000 from its
// four txids.
func TestNodesBlock100000(t *testing.T) {
	txids := []string{
		"8c14f0db3df150123e6f3dbbf30f8b955a8249b62ac1d1ff16284aefa3d06d87",
		"fff2525b8931402dd09222c50775608f75787bd2b87e56995a7bdd30f79702c4",
		"6359f0868171b1d194cbee1af2f16ea598ae8fad666d9b012c8ed2b79a236ec4",
		"e9a66845e05d5abc0ad04ec80f774a7e585c6e8db975962d069a522137b80c1d",
	}
	const root = "f3e94742aca4b5ef85488dc37c06c3282295ffec960994b2c0d5ac2a25a95766"
	paths(t, func(t *testing.T) {
		ids := make([][Size]byte, len(txids))
		for i, s := range txids {
			copy(ids[i][:], unhex(t, s))
			slices.Reverse(ids[i][:])
		}
		Nodes(ids, ids)
		Nodes(ids[:1], ids[:2])
		if got := reversed(ids[0]); got != root {
			t.Errorf("root = %s, want %s", got, root)
		}
	})
}

// TestLengths checks every length across the block boundaries, written
// whole and in parts, against crypto/sha256.
func TestLengths(t *testing.T) {
	data := make([]byte, 300)
	for i := range data {
		data[i] = byte(i*7 + 3)
	}
	paths(t, func(t *testing.T) {
		var d Double
		for n := range len(data) + 1 {
			p := data[:n]
			want := ref(p)
			if got := Sum(p); got != want {
				t.Fatalf("Sum of %d bytes = %x, want %x", n, got, want)
			}
			for _, cut := range []int{0, 1, n / 3, 63, 64, 65} {
				a := p[:min(cut, n)]
				b := p[len(a):]
				c := b[len(b)/2:]
				b = b[:len(b)/2]
				d.Write(a)
				d.Write(b)
				d.Write(c)
				if got := d.Sum(); got != want {
					t.Fatalf("Double of %d bytes in parts %d+%d+%d = %x, want %x", n, len(a), len(b), len(c), got, want)
				}
				if got := d.Sum3(a, b, c); got != want {
					t.Fatalf("Sum3 of %d bytes in parts %d+%d+%d = %x, want %x", n, len(a), len(b), len(c), got, want)
				}
				want2 := ref(slices.Concat(c, a, b))
				if got := d.Sum3(c, a, b); got != want2 {
					t.Fatalf("Sum3 of %d bytes in parts %d+%d+%d = %x, want %x", n, len(c), len(a), len(b), got, want2)
				}
				// Paired with every other length, both ways round.
				for m := 0; m <= len(data); m += 7 {
					q := data[len(data)-m:]
					wantQ := ref(q)
					x, y := [3][]byte{a, b, c}, [3][]byte{q[:min(4, m)], q[min(4, m):], nil}
					if gx, gy := d.Sum3Pair(&x, &y); gx != want || gy != wantQ {
						t.Fatalf("Sum3Pair of %d+%d+%d and %d bytes = %x, %x, want %x, %x", len(a), len(b), len(c), m, gx, gy, want, wantQ)
					}
					if gy, gx := d.Sum3Pair(&y, &x); gx != want || gy != wantQ {
						t.Fatalf("Sum3Pair of %d and %d+%d+%d bytes = %x, %x, want %x, %x", m, len(a), len(b), len(c), gy, gx, wantQ, want)
					}
				}
			}
		}
	})
}

func checkNodes(t *testing.T, src [][Size]byte) {
	t.Helper()
	want := make([][Size]byte, len(src)/2)
	for i := range want {
		want[i] = ref(append(src[2*i][:], src[2*i+1][:]...))
	}
	dst := make([][Size]byte, len(want))
	Nodes(dst, src)
	if !slices.Equal(dst, want) {
		t.Fatalf("Nodes of %d = %x, want %x", len(src), dst, want)
	}
	in := slices.Clone(src)
	Nodes(in, in)
	if !slices.Equal(in[:len(want)], want) || !slices.Equal(in[len(want):], src[len(want):]) {
		t.Fatalf("Nodes in place of %d = %x, want %x then the rest unchanged", len(src), in, want)
	}
}

func TestNodes(t *testing.T) {
	paths(t, func(t *testing.T) {
		for _, n := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 34, 63, 64, 65, 66, 97, 130} {
			src := make([][Size]byte, n)
			for i := range src {
				for j := range src[i] {
					src[i][j] = byte(i*31 + j)
				}
			}
			checkNodes(t, src)
		}
	})
}

func TestSumAllocs(t *testing.T) {
	data := bytes.Repeat([]byte{1}, 200)
	ids := make([][Size]byte, 8)
	var d Double
	paths(t, func(t *testing.T) {
		d.Write(nil) // the fallback's state is made once
		d.Sum()
		if n := testing.AllocsPerRun(100, func() {
			_ = Sum(data)
			Nodes(ids, ids)
			d.Write(data[:5])
			d.Write(data[5:])
			_ = d.Sum()
			_ = d.Sum3(data[:4], data[4:196], data[196:])
			x, y := [3][]byte{data[:4], data[4:196], data[196:]}, [3][]byte{nil, data[7:], nil}
			_, _ = d.Sum3Pair(&x, &y)
		}); n != 0 {
			t.Errorf("%v allocations a run, want 0", n)
		}
	})
}

// FuzzSum compares every entry point with crypto/sha256 on both paths.
func FuzzSum(f *testing.F) {
	f.Add([]byte(""), uint8(0), uint8(0))
	f.Add(bytes.Repeat([]byte{0xab}, 64), uint8(4), uint8(60))
	f.Add(bytes.Repeat([]byte{0x01}, 130), uint8(55), uint8(9))
	f.Fuzz(func(t *testing.T, data []byte, i, j uint8) {
		want := ref(data)
		a := data[:min(int(i), len(data))]
		b := data[len(a):]
		b, c := b[:min(int(j), len(b))], b[min(int(j), len(b)):]
		src := make([][Size]byte, len(data)/Size)
		for k := range src {
			copy(src[k][:], data[k*Size:])
		}
		fast, avx := useSHANI, useAVX512
		defer func() { useSHANI, useAVX512 = fast, avx }()
		for _, on := range []bool{fast, false} {
			useSHANI, useAVX512 = on, on && avx
			if got := Sum(data); got != want {
				t.Fatalf("shani=%v: Sum = %x, want %x", on, got, want)
			}
			var d Double
			d.Reset()
			d.Write(a)
			d.Write(b)
			d.Write(c)
			if got := d.Sum(); got != want {
				t.Fatalf("shani=%v: Double in parts %d+%d+%d = %x, want %x", on, len(a), len(b), len(c), got, want)
			}
			if got := d.Sum3(a, b, c); got != want {
				t.Fatalf("shani=%v: Sum3 in parts %d+%d+%d = %x, want %x", on, len(a), len(b), len(c), got, want)
			}
			x, y := [3][]byte{a, b, c}, [3][]byte{nil, c, nil}
			if gx, gy := d.Sum3Pair(&x, &y); gx != want || gy != ref(c) {
				t.Fatalf("shani=%v: Sum3Pair of %d+%d+%d and %d bytes = %x, %x, want %x, %x", on, len(a), len(b), len(c), len(c), gx, gy, want, ref(c))
			}
			checkNodes(t, src)
		}
	})
}
