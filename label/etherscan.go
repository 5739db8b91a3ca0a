package label

import (
	"encoding/csv"
	"fmt"
	"io"
	"iter"
	"regexp"
	"strings"

	"github.com/heistgraph/heistgraph"
)

// This file reads Etherscan-style label CSVs: one file per Etherscan label
// (accounts-binance.csv, accounts-tornado-cash.csv, accounts-bridge.csv,
// ...), as github.com/brianleect/etherscan-labels scrapes them from
// etherscan.io's label pages, one address a row with its name tag:
//
//	,Address,Name Tag,Balance,Txn Count
//	0,0x28c6c06298d514db089934071355e5743bf21d60,Binance 14,"1,234 ETH",100
//
// The file's Etherscan label says what the addresses are; the table below
// turns it into a category and, where the label names one service, its
// entity. Elsewhere the entity is the owner the name tag names: the part
// before ": " ("Bitkub: Hot Wallet 2" is Bitkub), else the tag without a
// trailing number ("Coinex 2" is Coinex); an empty tag gives no entity.
//
//	Etherscan label                      category            entity
//	binance, binance-deposit, bitfinex,  exchange            the exchange (Binance, Bitfinex,
//	bithumb, bitstamp, coinbase,                             Bithumb, Bitstamp, Coinbase,
//	crypto-com, ftx, gate-io, gemini,                        Crypto.com, FTX, Gate.io, Gemini,
//	huobi, kraken, kucoin, okx,                              Huobi, Kraken, KuCoin, OKX,
//	poloniex, upbit, changenow                               Poloniex, Upbit, ChangeNOW)
//	tornado-cash                         mixer               Tornado Cash
//	ethereum-mixer                       mixer               from the name tag
//	bridge                               bridge              from the name tag
//	ofac-sanctions-lists                 sanctioned          from the name tag (often none)
//	hot-wallet, cold-wallet              hot_wallet,         from the name tag (exchanges,
//	                                     cold_wallet         casinos, wallets: Etherscan does
//	                                                         not say which)
//	axie-infinity                        organization        Axie Infinity
//	any other (blocked, high-risk,       the label, "-" as   from the name tag
//	something-fishy, ...)                "_" (kept; the import summary names a category
//	                                     screening does not know)
//
// Etherscan's "blocked" (addresses USDT's and USDC's issuers froze, exploiters,
// and token contracts), "high-risk" and "something-fishy" say too little to
// be given a severity, so they pass through. Labels come with source
// "etherscan:<label>", confidence EtherscanConfidence, and a note with the
// name tag. Balance and Txn Count, as scraped, are not kept.

// EtherscanConfidence is the confidence of a label from an Etherscan label
// CSV: Etherscan's public name tags are curated by Etherscan, but its pages
// give no evidence and the files are scrapes of them.
const EtherscanConfidence = 0.8

// SourceEtherscanPrefix starts the source of every label from an Etherscan
// label CSV; the Etherscan label follows ("etherscan:binance").
const SourceEtherscanPrefix = "etherscan:"

// etherscanLabel is what one Etherscan label means here.
type etherscanLabel struct {
	category string
	entity   string // "" when the name tag decides
}

// etherscanLabels is the table of the file comment.
var etherscanLabels = map[string]etherscanLabel{
	"binance": {CategoryExchange, "Binance"}, "binance-deposit": {CategoryExchange, "Binance"},
	"bitfinex": {CategoryExchange, "Bitfinex"}, "bithumb": {CategoryExchange, "Bithumb"},
	"bitstamp": {CategoryExchange, "Bitstamp"}, "coinbase": {CategoryExchange, "Coinbase"},
	"crypto-com": {CategoryExchange, "Crypto.com"}, "ftx": {CategoryExchange, "FTX"},
	"gate-io": {CategoryExchange, "Gate.io"}, "gemini": {CategoryExchange, "Gemini"},
	"huobi": {CategoryExchange, "Huobi"}, "kraken": {CategoryExchange, "Kraken"},
	"kucoin": {CategoryExchange, "KuCoin"}, "okx": {CategoryExchange, "OKX"},
	"poloniex": {CategoryExchange, "Poloniex"}, "upbit": {CategoryExchange, "Upbit"},
	"changenow":            {CategoryExchange, "ChangeNOW"},
	"tornado-cash":         {CategoryMixer, "Tornado Cash"},
	"ethereum-mixer":       {CategoryMixer, ""},
	"bridge":               {CategoryBridge, ""},
	"ofac-sanctions-lists": {CategorySanctioned, ""},
	"hot-wallet":           {"hot_wallet", ""},
	"cold-wallet":          {"cold_wallet", ""},
	"axie-infinity":        {"organization", "Axie Infinity"},
}

// EtherscanCategory returns the category and entity that an Etherscan label
// (binance, tornado-cash, bridge, ...) gives its addresses (see the table
// in etherscan.go); entity is "" where the name tag decides. An unknown
// label is its own category, "-" written "_". It wraps heistgraph.ErrInvalid
// when the label is no Etherscan label slug (lower-case letters, digits and
// "-", at most 64 bytes).
func EtherscanCategory(tag string) (category, entity string, err error) {
	if !etherscanTagRE.MatchString(tag) {
		return "", "", fmt.Errorf("etherscan label %s: want lower-case letters, digits and -: %w", short(tag), heistgraph.ErrInvalid)
	}
	if l, ok := etherscanLabels[tag]; ok {
		return l.category, l.entity, nil
	}
	return strings.ReplaceAll(tag, "-", "_"), "", nil
}

var (
	etherscanTagRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	etherscanNameRE = regexp.MustCompile(`^accounts-([a-z0-9][a-z0-9-]{0,63})\.csv(?:\.gz)?$`)
	trailingNumRE   = regexp.MustCompile(`\s+#?\d+$`)
)

// EtherscanTagOf returns the Etherscan label a file name gives, as
// etherscan-labels names its files (accounts-binance.csv is binance; .gz
// allowed), or "": another name says nothing of the label.
func EtherscanTagOf(name string) string {
	if m := etherscanNameRE.FindStringSubmatch(strings.ToLower(baseName(name))); m != nil {
		return m[1]
	}
	return ""
}

// nameTagOwner returns the owner a name tag names: the part before ": ",
// else the tag without a trailing number.
func nameTagOwner(tag string) string {
	if owner, _, ok := strings.Cut(tag, ": "); ok {
		return strings.TrimSpace(owner)
	}
	return strings.TrimSpace(trailingNumRE.ReplaceAllString(tag, ""))
}

// ReadEtherscan streams the labels of an Etherscan label CSV (see the file
// comment of etherscan.go for the format and the mapping). The Etherscan
// label is opts.Tag or, failing that, the one in the base name of opts.Name
// (accounts-<label>.csv); the chain is opts.Chain, eth by default (the
// shared EVM key heistgraph.ChainEVM puts the labels on every EVM chain).
//
// The header must have an Address column; Name Tag is optional, other
// columns (the row index, Balance, Txn Count) are ignored; names are
// matched without case, a UTF-8 byte-order mark is ignored. Each row gives
// one label. Stream contract and errors as for Read: broken quoting, a
// record longer than MaxRecord bytes, a missing header or Address column
// end the import; a row with the wrong number of fields, an address that is
// not one of the chain, or a name tag over MaxField bytes is a row-level
// ParseError naming the line and the column (address, name tag). Memory is
// bounded by MaxRecord, whatever the file's size.
func ReadEtherscan(r io.Reader, opts Options) iter.Seq2[heistgraph.Label, error] {
	return func(yield func(heistgraph.Label, error) bool) {
		in, err := open(r, opts)
		if err != nil {
			yield(heistgraph.Label{}, err)
			return
		}
		tag := opts.Tag
		if tag == "" {
			tag = EtherscanTagOf(opts.Name)
		}
		if tag == "" {
			yield(heistgraph.Label{}, parseErr(opts.Name, 0, "tag",
				"cannot tell the Etherscan label: name the file accounts-<label>.csv or give the label (--tag)"))
			return
		}
		category, entity, err := EtherscanCategory(tag)
		if err != nil {
			yield(heistgraph.Label{}, &ParseError{File: opts.Name, Field: "tag", Err: err})
			return
		}
		chain := opts.Chain
		if chain == "" {
			chain = "eth"
		}
		if c, err := heistgraph.ParseChain(string(chain)); err != nil || c != chain || !c.IsEVM() && c != heistgraph.ChainEVM {
			yield(heistgraph.Label{}, parseErr(opts.Name, 0, "chain", "chain %s is no EVM chain (eth, bsc, arbitrum, ..., or evm for all)", short(string(chain))))
			return
		}
		const want = ",Address,Name Tag,..."
		fields, addrCol, tagCol := 0, -1, -1
		csvRecords(in, &opts, 0, want, func(hdr []string, cr *csv.Reader) *ParseError {
			fields = len(hdr)
			for i, h := range hdr {
				switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) {
				case "address":
					addrCol = i
				case "name tag", "name_tag", "nametag":
					tagCol = i
				}
			}
			if addrCol < 0 {
				line, _ := cr.FieldPos(0)
				return parseErr(opts.Name, line, "address", "header has no Address column (want %s)", want)
			}
			return nil
		}, func(rec []string, cr *csv.Reader) (heistgraph.Label, *ParseError) {
			line, _ := cr.FieldPos(0)
			l, perr := etherscanRow(chain, rec, fields, addrCol, tagCol, opts.Name, line)
			if perr != nil {
				return heistgraph.Label{}, perr
			}
			l.Category, l.Source, l.Confidence = category, SourceEtherscanPrefix+tag, EtherscanConfidence
			if entity != "" {
				l.Entity = entity
			}
			if err := Validate(l); err != nil {
				return heistgraph.Label{}, &ParseError{File: opts.Name, Line: line, Err: err}
			}
			return l, nil
		}, yield)
	}
}

// etherscanRow reads one row: its address on chain and its name tag.
func etherscanRow(chain heistgraph.Chain, rec []string, fields, addrCol, tagCol int, file string, line int) (heistgraph.Label, *ParseError) {
	if len(rec) != fields {
		return heistgraph.Label{}, parseErr(file, line, "", "row has %d fields, the header %d", len(rec), fields)
	}
	addr, err := heistgraph.NormalizeAddress(chain, rec[addrCol])
	if err != nil {
		return heistgraph.Label{}, &ParseError{File: file, Line: line, Field: "address", Err: err}
	}
	var name string
	if tagCol >= 0 {
		name = strings.TrimSpace(rec[tagCol])
	}
	if len(name) > MaxField {
		return heistgraph.Label{}, tooLong(file, line, "name tag", len(name), MaxField)
	}
	l := heistgraph.Label{Chain: chain, Address: addr, Entity: nameTagOwner(name)}
	if name != "" {
		l.Note = "name tag: " + name
	}
	return l, nil
}
