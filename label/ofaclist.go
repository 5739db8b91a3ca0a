package label

import (
	"bufio"
	"errors"
	"io"
	"iter"
	"regexp"
	"strings"

	"github.com/heistgraph/heistgraph"
)

var listNameRE = regexp.MustCompile(`(?i)^sanctioned_addresses_([A-Z0-9-]+)(\.[a-z]+)*$`)

// ReadOFACList streams the labels of a per-asset list of OFAC-sanctioned
// addresses, one address a line, as published by
// github.com/0xB10C/ofac-sanctioned-digital-currency-addresses from OFAC's
// SDN list (sanctioned_addresses_XBT.txt, _ETH.txt, _USDT.txt, ...). Empty
// lines and lines starting with # are skipped.
//
// The asset is opts.Asset or, failing that, the one in the base name of
// opts.Name; OFACChains maps it to chains (XBT is btc; ETH, ARB, BSC, ETC and
// 0x USDT and USDC the shared EVM key evm; TRX tron; Omni USDT btc; see the table in
// ofacchain.go). Each address gives one label per chain: category
// sanctioned, source "ofac-sdn", confidence 1, no entity (the lists carry no
// names; use ofac-xml or ofac-csv for them), the note naming the ticker
// ("OFAC assets: ETH").
// Stream contract and errors as for Read; a line that is not an address of
// the chain is a row-level ParseError with field "address".
func ReadOFACList(r io.Reader, opts Options) iter.Seq2[heistgraph.Label, error] {
	return func(yield func(heistgraph.Label, error) bool) {
		in, err := open(r, opts)
		if err != nil {
			yield(heistgraph.Label{}, err)
			return
		}
		asset := opts.Asset
		if asset == "" {
			if m := listNameRE.FindStringSubmatch(baseName(opts.Name)); m != nil {
				asset = m[1]
			}
		}
		if asset == "" {
			yield(heistgraph.Label{}, parseErr(opts.Name, 0, "asset",
				"cannot tell the asset: name the file sanctioned_addresses_<ASSET>.txt or set the asset"))
			return
		}
		asset = strings.ToUpper(asset)
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 0, 4096), 64<<10)
		line := 0
		for sc.Scan() {
			line++
			s := strings.TrimSpace(sc.Text())
			if s == "" || s[0] == '#' {
				continue
			}
			var g listingGroup
			if _, err := g.add(asset, s); err != nil {
				if !skip(&opts, yield, &ParseError{File: opts.Name, Line: line, Field: "address", Err: err}) {
					return
				}
				continue
			}
			if !(designation{}).yieldLabels(&g, yield) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				yield(heistgraph.Label{}, parseErr(opts.Name, line+1, "address", "line longer than 64 KiB"))
				return
			}
			yield(heistgraph.Label{}, inputErr(opts.Name, line+1, err))
		}
	}
}
