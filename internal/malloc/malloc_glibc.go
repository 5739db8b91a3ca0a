//go:build linux && cgo

package malloc

/*
#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
static int hg_limit(int arenas) { return mallopt(M_ARENA_MAX, arenas); }
static int hg_trim(void) { return malloc_trim(0); }
static int hg_glibc(void) { return 1; }
#else
static int hg_limit(int arenas) { return 0; }
static int hg_trim(void) { return 0; }
static int hg_glibc(void) { return 0; }
#endif
// hg_churn allocates n blocks of size bytes and frees all but every
// keep-th, leaving free holes between live blocks (for the tests); it
// returns the blocks kept, to free with hg_unchurn.
static void **hg_churn(int n, int size, int keep) {
	void **p = calloc(n, sizeof(void *));
	for (int i = 0; i < n; i++) {
		p[i] = malloc(size);
		for (int j = 0; j < size; j += 4096) ((char *)p[i])[j] = 1;
	}
	for (int i = 0; i < n; i++) if (i % keep != 0) { free(p[i]); p[i] = 0; }
	return p;
}
static void hg_unchurn(void **p, int n) {
	for (int i = 0; i < n; i++) free(p[i]);
	free(p);
}
*/
import "C"

// Supported reports whether Limit and Trim act (glibc with cgo).
func Supported() bool { return C.hg_glibc() == 1 }

// Limit caps the C allocator's arenas at n (n >= 1): fewer arenas keep
// fewer free chunks apart, at the cost of threads waiting on an arena's
// lock. Call it before the C allocations it should cover.
func Limit(arenas int) { C.hg_limit(C.int(max(arenas, 1))) }

// Trim gives the C allocator's free pages back to the system and reports
// whether any were.
func Trim() bool { return C.hg_trim() == 1 }

// churn leaves n×size bytes of C memory allocated and freed in holes
// between the blocks it keeps (every keep-th); release frees those. For
// the tests.
func churn(n, size, keep int) (release func()) {
	p := C.hg_churn(C.int(n), C.int(size), C.int(keep))
	return func() { C.hg_unchurn(p, C.int(n)) }
}
