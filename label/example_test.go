package label_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/label"
)

func ExampleRead() {
	in := "chain,address,entity,category,source,confidence,tlp\n" +
		"eth,0x098B716B8Aaf21512996dC57EB0615e2383E2f96,LAZARUS GROUP,dprk,analyst,0.9,amber\n" +
		"btc,1Archive1n2C579dMsAu3iC6tWzuQJz8dN,Internet Archive,organization,analyst,1.5,\n"
	for l, err := range label.Read(strings.NewReader(in), label.FormatCSV, label.Options{Name: "labels.csv"}) {
		if err != nil {
			var pe *label.ParseError
			fmt.Println(errors.As(err, &pe), pe.Line, pe.Field, errors.Is(err, heistgraph.ErrInvalid))
			break
		}
		fmt.Println(l.Chain, l.Address, l.Category, l.Confidence, l.TLP)
	}
	// Output:
	// eth 0x098b716b8aaf21512996dc57eb0615e2383e2f96 dprk 0.9 amber
	// true 3 confidence true
}

func ExampleBuiltin() {
	ls, err := label.Builtin()
	if err != nil {
		panic(err)
	}
	ronin, err := heistgraph.NormalizeAddress(heistgraph.ChainEVM, "0x098B716B8Aaf21512996dC57EB0615e2383E2f96")
	if err != nil {
		panic(err)
	}
	for _, l := range ls {
		// One label on the shared EVM key holds on eth, bsc and every EVM chain.
		if l.Chain == heistgraph.ChainEVM && l.Address == ronin {
			fmt.Println(l.Entity, l.Category, l.Source)
		}
	}
	// Output:
	// LAZARUS GROUP dprk ofac-sdn:27307
	// LAZARUS GROUP sanctioned ofac-sdn:27307
}
