package main

import (
	"context"
	"strings"
	"testing"

	"github.com/heistgraph/heistgraph"
	lft "github.com/heistgraph/heistgraph/linkfind/linkfindtest"
	"github.com/heistgraph/heistgraph/store/pebble"
)

// TestLinksBuild: links build finds methods.md §6.7 example 1 and its
// mirror in a store holding both chains, reports the malformed memo, and
// show tx lists the links on both chains.
func TestLinksBuild(t *testing.T) {
	data, w := linkWorldStore(t, true)

	r := cli(t, "--data", data, "links", "build")
	if r.code != 2 {
		t.Errorf("links build without --chain: exit %d, want 2", r.code)
	}
	r = cli(t, "--data", data, "--json", "links", "build", "--chain", string(lft.BTC), "--chain", string(lft.ETH))
	mustOK(t, r, "links build")
	rep := decode[struct {
		Links     int `json:"links"`
		Malformed []struct {
			TxID string `json:"txid"`
			Memo string `json:"memo"`
		} `json:"malformed"`
	}](t, r.stdout)
	if rep.Links != 2 || len(rep.Malformed) != 1 || rep.Malformed[0].TxID != w.Bad.TxID.String() {
		t.Errorf("links build: %s", r.stdout)
	}

	r = cli(t, "--data", data, "--json", "show", "tx", w.In.TxID.String())
	mustOK(t, r, "show tx")
	tx := decode[struct {
		Links []struct {
			Method     string
			Confidence string
			Src, Dst   struct {
				Chain, TxID, Amount string
			}
		} `json:"links"`
	}](t, r.stdout)
	if len(tx.Links) != 1 || tx.Links[0].Method != "thorchain" || tx.Links[0].Confidence != "exact" ||
		tx.Links[0].Dst.TxID != w.Out.String() || tx.Links[0].Dst.Amount != "15210000000000000000" || tx.Links[0].Src.Amount != "100000000" {
		t.Errorf("show tx of the inbound: %s", r.stdout)
	}
	r = cli(t, "--data", data, "show", "tx", w.Dep.String(), "--chain", string(lft.ETH))
	mustOK(t, r, "show tx of the deposit")
	if want := "link thorchain exact: eth " + w.Dep.String(); !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, w.Ret.TxID.String()) {
		t.Errorf("show tx of the deposit lacks %q and the refund's txid:\n%s", want, r.stdout)
	}
}

// TestLinksBuildOpen: in a store holding only Ethereum, links build stores
// the deposit's swap to Bitcoin as an open link (reported as such), and
// show tx lists it with the memo's address and the memo, in text and JSON.
func TestLinksBuildOpen(t *testing.T) {
	data, w := linkWorldStore(t, false)
	r := cli(t, "--data", data, "links", "build", "--chain", string(lft.ETH))
	mustOK(t, r, "links build")
	if want := "1 open link(s) stored"; !strings.Contains(r.stdout, want) {
		t.Errorf("links build does not say %q:\n%s", want, r.stdout)
	}
	r = cli(t, "--data", data, "--json", "show", "tx", w.Dep.String(), "--chain", string(lft.ETH))
	mustOK(t, r, "show tx")
	tx := decode[struct {
		Links []struct {
			Method string
			Open   bool
			Memo   string
			Dst    struct {
				Chain, TxID, Address, Amount string
				Height                       int64 `json:"block_height"`
			}
		} `json:"links"`
	}](t, r.stdout)
	if len(tx.Links) != 1 || tx.Links[0].Method != "thorchain" || !tx.Links[0].Open || tx.Links[0].Memo != "=:BTC.BTC:"+lft.Dest ||
		tx.Links[0].Dst.Chain != "btc" || tx.Links[0].Dst.Address != lft.Dest || tx.Links[0].Dst.TxID != "" || tx.Links[0].Dst.Amount != "" ||
		tx.Links[0].Dst.Height != -1 {
		t.Errorf("show tx of the deposit: %s", r.stdout)
	}
	r = cli(t, "--data", data, "show", "tx", w.Dep.String(), "--chain", string(lft.ETH))
	mustOK(t, r, "show tx (text)")
	if want := "(open: outbound not held): eth " + w.Dep.String(); !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "btc "+lft.Dest) {
		t.Errorf("show tx of the deposit lacks %q and the memo's address:\n%s", want, r.stdout)
	}
}

// linkWorldStore writes linkfindtest's world into a new Pebble store with
// THORChain's vault label: its Ethereum blocks, and its Bitcoin blocks when
// withBTC. It returns the data directory and the world.
func linkWorldStore(t *testing.T, withBTC bool) (string, *lft.World) {
	t.Helper()
	ctx := context.Background()
	data := t.TempDir()
	w := lft.NewWorld()
	db, err := pebble.Open(data, pebble.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.PutLabels(ctx, []heistgraph.Label{lft.VaultLabel}); err != nil {
		t.Fatal(err)
	}
	if withBTC {
		for _, b := range w.BTC {
			if err := db.ApplyBlock(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, b := range w.ETH {
		if err := db.ApplyAccountBlock(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return data, w
}
