package label

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"iter"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/heistgraph/heistgraph"
)

// Format names a label file format, as given to
// `heistgraph labels import FILE --format F`.
type Format string

// The supported formats.
const (
	// FormatOFACList is one address per line, the per-asset lists derived
	// from OFAC's SDN list (sanctioned_addresses_XBT.txt, ...).
	FormatOFACList Format = "ofac-list"
	// FormatOFACXML is OFAC's SDN list in its "advanced" XML form
	// (sdn_advanced.xml).
	FormatOFACXML Format = "ofac-xml"
	// FormatOFACCSV is OFAC's SDN list in its CSV form (sdn.csv), with
	// sdn_comments.csv in Options.Comments.
	FormatOFACCSV Format = "ofac-csv"
	// FormatTagPack is a GraphSense TagPack (YAML).
	FormatTagPack Format = "tagpack"
	// FormatCSV is heistgraph's own label CSV:
	// chain,address,entity,category,source,confidence[,tlp].
	FormatCSV Format = "csv"
	// FormatEtherscan is an Etherscan-style label CSV, one file per
	// Etherscan label (accounts-binance.csv: ,Address,Name Tag,...).
	FormatEtherscan Format = "etherscan"
)

// Formats returns the supported formats in a fixed order.
func Formats() []Format {
	return []Format{FormatOFACList, FormatOFACXML, FormatOFACCSV, FormatTagPack, FormatCSV, FormatEtherscan}
}

// ParseFormat returns the format called s. An unknown name gives an error
// wrapping heistgraph.ErrInvalid.
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Formats(), f) {
		return f, nil
	}
	return "", fmt.Errorf("unknown label format %q (want ofac-list, ofac-xml, ofac-csv, tagpack, csv or etherscan): %w", s, heistgraph.ErrInvalid)
}

// Options tune an import. The zero value is valid: a strict import of an
// unnamed file.
type Options struct {
	// Name is the file name. It appears in every ParseError, names the
	// TagPack when its title is missing, and gives an ofac-list file its
	// asset (sanctioned_addresses_XBT.txt is XBT). Only its base name is
	// used for the latter two.
	Name string
	// Asset is the asset of an ofac-list file (XBT, ETH, USDT, ...). It
	// overrides the one in Name. Other formats ignore it.
	Asset string
	// Tag is the Etherscan label of an etherscan file (binance,
	// tornado-cash, bridge, ...). It overrides the one in Name
	// (accounts-<label>.csv). Other formats ignore it.
	Tag string
	// Chain is the chain of an etherscan file's addresses: an EVM chain,
	// or heistgraph.ChainEVM for every one; default eth. Other formats
	// ignore it.
	Chain heistgraph.Chain
	// Comments is OFAC's sdn_comments.csv, read fully before the import
	// starts (errors in it name the file sdn_comments.csv). It holds the
	// continuations of sdn.csv remarks cut at 1,000 characters, where many
	// addresses sit. Only ofac-csv reads it; without it the cut last item
	// of such a remark is dropped and the rest imported.
	Comments io.Reader
	// OnSkip, when set, receives each row-level problem (a value that fails
	// validation: an address invalid for its chain, a token whose chain
	// cannot be told, a confidence out of range, ...), and the import goes
	// on without that row. When nil such a problem ends the import. Syntax
	// errors (broken YAML, XML or CSV quoting) always end it. OnSkip is
	// called from the goroutine that ranges over the sequence.
	OnSkip func(*ParseError)
}

// DefaultOptions returns the default options: no file name, no asset
// override, no comments file, strict.
func DefaultOptions() Options { return Options{} }

var assetRE = regexp.MustCompile(`^[A-Za-z0-9-]{1,16}$`)

// Validate checks the options. It returns an error wrapping
// heistgraph.ErrInvalid.
func (o Options) Validate() error {
	if o.Asset != "" && !assetRE.MatchString(o.Asset) {
		return fmt.Errorf("asset %q is not a ticker: %w", o.Asset, heistgraph.ErrInvalid)
	}
	if o.Tag != "" && !etherscanTagRE.MatchString(o.Tag) {
		return fmt.Errorf("etherscan label %s: want lower-case letters, digits and -: %w", short(o.Tag), heistgraph.ErrInvalid)
	}
	return nil
}

// Read streams the labels in r, a file in format f. Gzip-compressed input is
// recognised by its magic bytes and decompressed. The sequence is
// single-use and reads r as it goes: it yields each label with a nil error
// and, on the first error, a zero Label and the error, then stops. Errors in
// the input are *ParseError wrapping heistgraph.ErrInvalid, invalid options
// an error wrapping it too; a failing reader gives its own error, wrapped.
// Labels are yielded in file order, one per (address, category) of each
// record; every one passes Validate. Where a source lists an address under
// an asset (OFAC, TagPacks) and the address is not one of the asset's chain
// but unambiguously one of Bitcoin, Ethereum or Tron, the label goes on that
// chain and its Note says so: OFAC lists the Tron address
// TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq as XBT. Memory stays bounded by the
// largest record, except for ofac-xml (the SDN entries that carry
// addresses); csv records are held to MaxRecord bytes, TagPacks over 1 MiB
// are streamed tag by tag (ReadTagPack).
func Read(r io.Reader, f Format, opts Options) iter.Seq2[heistgraph.Label, error] {
	switch f {
	case FormatOFACList:
		return ReadOFACList(r, opts)
	case FormatOFACXML:
		return ReadOFACXML(r, opts)
	case FormatOFACCSV:
		return ReadOFACCSV(r, opts)
	case FormatTagPack:
		return ReadTagPack(r, opts)
	case FormatCSV:
		return ReadCSV(r, opts)
	case FormatEtherscan:
		return ReadEtherscan(r, opts)
	}
	return func(yield func(heistgraph.Label, error) bool) {
		_, err := ParseFormat(string(f))
		yield(heistgraph.Label{}, err)
	}
}

// ReadAll reads every label in r, a file in format f (see Read). It returns
// the labels read so far together with the first error. The caller owns the
// returned slice.
func ReadAll(r io.Reader, f Format, opts Options) ([]heistgraph.Label, error) {
	var out []heistgraph.Label
	for l, err := range Read(r, f, opts) {
		if err != nil {
			return out, err
		}
		out = append(out, l)
	}
	return out, nil
}

// baseName returns the base name of a file name given with / or \.
func baseName(name string) string {
	return path.Base(strings.ReplaceAll(name, `\`, "/"))
}

// open validates opts and returns r, decompressed if it starts with the gzip
// magic.
func open(r io.Reader, opts Options) (io.Reader, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return decompress(r, opts.Name)
}

// decompress returns r, decompressed if it starts with the gzip magic.
func decompress(r io.Reader, name string) (io.Reader, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, inputErr(name, 0, err)
		}
		return zr, nil
	}
	return br, nil
}

// inputErr classifies an error from reading the input: corrupt compressed
// data is invalid input (a ParseError at line), anything else is the
// reader's failure, wrapped with the file name.
func inputErr(name string, line int, err error) error {
	var corrupt flate.CorruptInputError
	if errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &corrupt) {
		return parseErr(name, line, "", "corrupt compressed input: %v", err)
	}
	return fmt.Errorf("read %s: %w", name, err)
}

// skip reports a row-level problem: to opts.OnSkip when set, which lets the
// import go on (true), else as the sequence's final error (false).
func skip(opts *Options, yield func(heistgraph.Label, error) bool, e *ParseError) bool {
	if opts.OnSkip != nil {
		opts.OnSkip(e)
		return true
	}
	yield(heistgraph.Label{}, e)
	return false
}

// place resolves the chain of an (asset, address) pair as a source lists
// it (OFAC, TagPacks), normalises the address and validates it; errors wrap
// heistgraph.ErrInvalid. When the address is not one of the asset's chain
// but its format is unambiguously another chain's and valid there, it is
// placed on that chain and fix says so: OFAC lists the Tron address
// TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq as XBT, and dropping an entry of a
// sanctions list is worse than moving it.
func place(asset, addr string) (chain heistgraph.Chain, a, fix string, err error) {
	addr = strings.TrimSpace(addr)
	if chain, err = AssetChain(asset, addr); err != nil {
		return "", "", "", err
	}
	a, err = heistgraph.NormalizeAddress(chain, addr)
	if err == nil {
		return chain, a, "", nil
	}
	// Only formats with a checksum or a fixed shape qualify: a mistyped
	// Bitcoin address still looks like base58, which Solana also uses.
	if c := tokenChain(addr); (c == heistgraph.ChainBTC || c == chainETH || c == chainTron) && c != chain {
		if n, e := heistgraph.NormalizeAddress(c, addr); e == nil {
			return c, n, fmt.Sprintf("listed as %s, but the address is one of chain %s", strings.ToUpper(strings.TrimSpace(asset)), c), nil
		}
	}
	return "", "", "", err
}

// notes joins non-empty "key: value" parts with "; ".
func notes(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(kv[i])
		b.WriteString(": ")
		b.WriteString(kv[i+1])
	}
	return b.String()
}

// KnownChain reports whether c is a chain the label importers know: a
// Bitcoin chain (btc, btc-testnet, ...), an EVM chain of the registry
// (heistgraph.Chain.IsEVM), the shared EVM key heistgraph.ChainEVM (a label
// on every EVM chain), or a chain that an asset of OFAC's lists or of
// TagPacks names (tron, sol, bnb, ltc, bch, xmr, ...). heistgraph.ParseChain
// accepts any lower-case word, so a label file's chain column must also pass
// this: "bitcoin" is no chain id.
func KnownChain(c heistgraph.Chain) bool {
	if c.IsUTXO() || c.IsEVM() || c == heistgraph.ChainEVM {
		return true
	}
	for _, ac := range assetChains {
		if ac == c {
			return true
		}
	}
	return false
}
