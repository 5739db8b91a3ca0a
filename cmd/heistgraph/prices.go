package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/heistgraph/heistgraph"
	hgapp "github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/incident"
	"github.com/heistgraph/heistgraph/store"
)

func (a *app) pricesCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "prices",
		Short: "Daily USD prices that value the incident register",
	}
	c.AddCommand(a.pricesImportCmd())
	return c
}

// pricesImportJSON is the summary of `prices import --json`.
type pricesImportJSON struct {
	File   string           `json:"file"`
	Format string           `json:"format"` // date,asset,usd or coingecko
	Prices int              `json:"prices"`
	Assets []priceAssetJSON `json:"assets"`
}

type priceAssetJSON struct {
	Asset string `json:"asset"`
	Days  int    `json:"days"`
	From  string `json:"from"`
	To    string `json:"to"`
}

func (a *app) pricesImportCmd() *cobra.Command {
	var asset string
	c := &cobra.Command{
		Use:   "import FILE.csv",
		Short: "Import daily USD prices: date,asset,usd rows, or CoinGecko's export with --asset",
		Long: `Import daily USD prices into the store, where incidents are valued at the day of
the theft ("incidents report", "incidents show").

Two CSV forms are read, told apart by the header:
  date,asset,usd                             one price a row: 2024-05-31,BTC,68372.49
  snapped_at,price,market_cap,total_volume   CoinGecko's export of one coin; give --asset

A price already stored for an asset and day is replaced. A bad row fails the whole
import (exit 2) with its line named, and nothing is stored. A line may hold at most
256 bytes and a file 64 MiB.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := readPriceFile(args[0])
			if err != nil {
				return err
			}
			ps, err := incident.ParsePrices(bytes.NewReader(data), asset)
			if err != nil {
				return fmt.Errorf("prices import %s: %w", args[0], err)
			}
			out := pricesImportJSON{File: args[0], Format: "date,asset,usd", Prices: len(ps), Assets: []priceAssetJSON{}}
			if strings.HasPrefix(strings.TrimPrefix(string(data), "\xef\xbb\xbf"), "snapped_at") {
				out.Format = "coingecko"
			}
			sorted := append([]heistgraph.DayPrice(nil), ps...)
			incident.SortPrices(sorted)
			for _, p := range sorted {
				n := len(out.Assets)
				if n == 0 || out.Assets[n-1].Asset != p.Asset {
					out.Assets = append(out.Assets, priceAssetJSON{Asset: p.Asset, From: hgapp.Day(p.Day)})
					n++
				}
				out.Assets[n-1].Days++
				out.Assets[n-1].To = hgapp.Day(p.Day)
			}
			err = a.withStore(cmd.Context(), func(st store.Store) error { return st.PutPrices(cmd.Context(), ps) })
			if err != nil {
				return err
			}
			return a.emit(out, func(w io.Writer) error {
				printf(w, "imported %d prices from %s (%s)\n", out.Prices, out.File, out.Format)
				tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
				for _, as := range out.Assets {
					fmt.Fprintf(tw, "  %s\t%d days\t%s .. %s\n", as.Asset, as.Days, as.From, as.To)
				}
				return tw.Flush()
			})
		},
	}
	c.Flags().StringVar(&asset, "asset", "", "the asset priced (BTC, ETH, ...): required for a CoinGecko export; with date,asset,usd rows, every row must be this asset")
	return c
}

// Limits of a prices file: a daily price row is a few dozen bytes
// (CoinGecko's "2024-05-31 00:00:00 UTC,68372.49,1.35e12,2.3e10" is 50), so
// these bound memory and keep every error message short.
const (
	maxPriceLine = 256
	maxPriceFile = 64 << 20
)

// readPriceFile reads a prices file, holding each line to maxPriceLine bytes
// and the file to maxPriceFile before the parser sees it: an over-long line
// is bad input naming FILE:LINE, never quoted, and no quoted field may span
// lines (which would let one field grow past the line limit).
func readPriceFile(path string) ([]byte, error) {
	f, err := openInput(path)
	if err != nil {
		return nil, fmt.Errorf("prices import: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, maxPriceLine+1)
	var out bytes.Buffer
	for line := 1; ; line++ {
		b, err := br.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			return nil, fmt.Errorf("prices import: %s:%d: line longer than %d bytes: %w", path, line, maxPriceLine, heistgraph.ErrInvalid)
		case err != nil && !errors.Is(err, io.EOF):
			return nil, fmt.Errorf("prices import: %s: %w", path, err)
		}
		if bytes.Count(b, []byte{'"'})%2 != 0 {
			return nil, fmt.Errorf("prices import: %s:%d: a quoted field spans lines: %w", path, line, heistgraph.ErrInvalid)
		}
		if out.Len()+len(b) > maxPriceFile {
			return nil, fmt.Errorf("prices import: %s: larger than %d bytes: %w", path, maxPriceFile, heistgraph.ErrInvalid)
		}
		out.Write(b)
		if err != nil { // io.EOF
			return out.Bytes(), nil
		}
	}
}
