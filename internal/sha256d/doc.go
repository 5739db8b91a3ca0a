// Package sha256d computes Bitcoin's double SHA-256, SHA-256(SHA-256(x)),
// with less overhead than two calls of crypto/sha256 on the short inputs
// a block is made of: the 32-byte second hash of every txid and the
// 64-byte nodes of the merkle tree.
//
// On amd64 with the SHA extensions (SHA-NI) the whole double hash is one
// assembly call that feeds the first hash's state to the second as its
// message in registers, and a 64-byte node's padding block uses a message
// schedule computed once (as Bitcoin Core's SHA256D64 does); Nodes hashes
// a whole merkle level per call. Elsewhere (other CPUs, other GOARCHes, the
// purego build tag) it uses crypto/sha256, with the same results.
package sha256d
