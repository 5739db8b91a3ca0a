package pebble

import (
	"context"
	"encoding/hex"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/store/storetest"
)

// digestWorldWant is the digest of digestWorld's blocks as schema 2
// (main at a91694f, which stored every script) computed it: the digest
// must not depend on the layout.
const digestWorldWant = "9da9622cf03a4c681b72f12afd7b4e2c87aa132d1e1d1de311e0d03f428078a5"

// digestWorld is 40 generated blocks whose odd transactions pay real
// standard addresses with their scripts (one of each template in turn), so
// that their output records leave the script out, and whose other outputs
// keep scripts that are not their address's.
func digestWorld() []*heistgraph.Block {
	std := []heistgraph.TxOut{
		{Type: heistgraph.ScriptPubKeyHash, Address: "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", Script: mustHex("76a91477bff20c60e522dfaa3350c39b030a5d004e839a88ac")},
		{Type: heistgraph.ScriptScriptHash, Address: "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", Script: mustHex("a914b472a266d0bd89c13706a4132ccfb16f7c3b9fcb87")},
		{Type: heistgraph.ScriptWitnessV0KeyHash, Address: "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", Script: mustHex("0014751e76e8199196d454941c45d1b3a323f1433bd6")},
		{Type: heistgraph.ScriptWitnessV0ScriptHash, Address: "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3", Script: mustHex("00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262")},
		{Type: heistgraph.ScriptWitnessV1Taproot, Address: "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", Script: mustHex("512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")},
	}
	g := storetest.NewGenerator(heistgraph.ChainBTCRegtest, 7, 5)
	var bs []*heistgraph.Block
	k := 0
	for range 40 {
		b := g.Next()
		for i := 1; i < len(b.Txs); i += 2 {
			for n := range b.Txs[i].Outputs {
				out := &b.Txs[i].Outputs[n]
				if out.Address == "" {
					continue
				}
				s := std[k%len(std)]
				k++
				out.Type, out.Address, out.Script = s.Type, s.Address, s.Script
			}
		}
		bs = append(bs, b)
	}
	return bs
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// TestDigestAcrossLayouts: the digest of a store is the one schema 2 gave
// the same blocks, with scripts left out of output records.
func TestDigestAcrossLayouts(t *testing.T) {
	db, err := Open("db", Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustApply(t, db, digestWorld()...)
	got, err := db.Digest(context.Background(), heistgraph.ChainBTCRegtest)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != digestWorldWant {
		t.Errorf("digest %s, want %s", got, digestWorldWant)
	}
}
