package label

import (
	"fmt"
	"slices"
	"strings"

	"github.com/heistgraph/heistgraph"
)

// This file maps OFAC's tickers to chains. OFAC lists a digital currency
// address by asset ("Digital Currency Address - XBT"), not by chain, so one
// table says where each ticker's addresses go:
//
//	ticker  chains                      why
//	XBT     btc                         Bitcoin
//	ETH     evm (every EVM chain)       one secp256k1 key holds the same 0x address on
//	ARB     evm                         every EVM chain, so whoever OFAC names holds it
//	BSC     evm                         on all of them: the label goes on the shared
//	ETC     evm                         key heistgraph.ChainEVM, which a lookup on any
//	                                    EVM chain of the registry reads, and its note
//	                                    keeps the tickers OFAC named ("OFAC assets:
//	                                    ETH, ARB, BSC")
//	USDT    by address format           0x... evm; T... tron; a Bitcoin
//	USDC    by address format           address btc (Omni Layer USDT)
//	TRX     tron                        Tron
//	LTC     ltc                         Litecoin
//	BCH     bch                         Bitcoin Cash (legacy and CashAddr)
//	BSV     bsv                         Bitcoin SV
//	BTG     btg                         Bitcoin Gold
//	DASH    dash                        Dash
//	ZEC     zec                         Zcash
//	XMR     xmr                         Monero (standard and integrated addresses; OFAC
//	                                    also lists a 64-hex value, kept as given)
//	XVG     xvg                         Verge
//	XRP     xrp                         XRP Ledger
//	other   its lower-case ticker       kept, so that the address string still screens
//
// Whatever the ticker, an address whose format is unambiguously another
// chain's (Bitcoin, EVM, Tron) and valid there goes to that chain, and the
// note says so: OFAC lists the Tron address TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq
// as XBT. Addresses are validated where the package can (Bitcoin's
// base58check and bech32 checksums, EVM hex, Tron base58check) and kept as
// given elsewhere (heistgraph.NormalizeAddress). The chain ids of chains
// heistgraph does not ingest are those AssetChain gives.

// OFACTicker describes how the addresses OFAC lists under one ticker map to
// chains.
type OFACTicker struct {
	Ticker string           // as OFAC spells it: XBT, ETH, USDT, ...
	Chain  heistgraph.Chain // the chain; "" when EVM or ByFormat decides
	EVM    bool             // a 0x address, on the shared key heistgraph.ChainEVM
	// ByFormat marks a token issued on several chains: the address format
	// decides (0x: evm; T...: tron; Bitcoin: btc).
	ByFormat bool
	Name     string // the asset's name, for the reader
}

// ofacTickers is the table of the file comment, in its order.
var ofacTickers = []OFACTicker{
	{Ticker: "XBT", Chain: heistgraph.ChainBTC, Name: "Bitcoin"},
	{Ticker: "ETH", EVM: true, Name: "Ether"},
	{Ticker: "ARB", EVM: true, Name: "Arbitrum"},
	{Ticker: "BSC", EVM: true, Name: "BNB Smart Chain"},
	{Ticker: "ETC", EVM: true, Name: "Ethereum Classic"},
	{Ticker: "USDT", ByFormat: true, Name: "Tether (Ethereum and other EVM chains, Tron, Omni Layer on Bitcoin)"},
	{Ticker: "USDC", ByFormat: true, Name: "USD Coin"},
	{Ticker: "TRX", Chain: chainTron, Name: "Tron"},
	{Ticker: "LTC", Chain: "ltc", Name: "Litecoin"},
	{Ticker: "BCH", Chain: "bch", Name: "Bitcoin Cash"},
	{Ticker: "BSV", Chain: "bsv", Name: "Bitcoin SV"},
	{Ticker: "BTG", Chain: "btg", Name: "Bitcoin Gold"},
	{Ticker: "DASH", Chain: "dash", Name: "Dash"},
	{Ticker: "ZEC", Chain: "zec", Name: "Zcash"},
	{Ticker: "XMR", Chain: "xmr", Name: "Monero"},
	{Ticker: "XVG", Chain: "xvg", Name: "Verge"},
	{Ticker: "XRP", Chain: "xrp", Name: "XRP"},
}

// OFACTickers returns the ticker table, in the order of the package's
// table. The caller owns the slice.
func OFACTickers() []OFACTicker { return slices.Clone(ofacTickers) }

// OFACChains resolves an address as OFAC lists it under ticker: the chains
// it is labelled on (one: heistgraph.ChainEVM for a 0x address), the address
// keyed (heistgraph.NormalizeAddress), and fix, a note when the address is not one
// of the ticker's chain but unambiguously another's (see the table in
// ofacchain.go). An unknown ticker gives its lower-case form as the chain.
// Errors wrap heistgraph.ErrInvalid: an empty ticker, or an address that is
// not valid on the chain the ticker names (bad checksum, wrong form).
func OFACChains(ticker, address string) (chains []heistgraph.Chain, addr, fix string, err error) {
	t := strings.ToUpper(strings.TrimSpace(ticker))
	address = strings.TrimSpace(address)
	var chain heistgraph.Chain
	i := slices.IndexFunc(ofacTickers, func(o OFACTicker) bool { return o.Ticker == t })
	switch {
	case t == "":
		return nil, "", "", fmt.Errorf("ticker is empty: %w", heistgraph.ErrInvalid)
	case i < 0:
		if chain, err = heistgraph.ParseChain(strings.ToLower(t)); err != nil {
			return nil, "", "", fmt.Errorf("ticker %q names no chain: %w", ticker, heistgraph.ErrInvalid)
		}
	case ofacTickers[i].EVM:
		chain = chainETH
	case ofacTickers[i].ByFormat:
		if chain = tokenChain(address); chain != heistgraph.ChainBTC && chain != chainETH && chain != chainTron {
			return nil, "", "", fmt.Errorf("cannot tell which chain carries %s address %q: %w", t, address, heistgraph.ErrInvalid)
		}
	default:
		chain = ofacTickers[i].Chain
	}
	chain, addr, fix, err = place(string(chain), address)
	if err != nil {
		return nil, "", "", err
	}
	if chain.IsEVM() {
		chain = heistgraph.ChainEVM
	}
	if fix != "" {
		fix = fmt.Sprintf("listed as %s, but the address is one of chain %s", t, chain)
	}
	return []heistgraph.Chain{chain}, addr, fix, nil
}
