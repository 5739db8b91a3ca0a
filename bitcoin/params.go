package bitcoin

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/btcsuite/btcd/chaincfg/v2"

	"github.com/heistgraph/heistgraph"
)

// ChainParams returns btcd's parameters for net: MainNetParams,
// TestNet3Params, TestNet4Params, RegressionNetParams or SigNetParams (the
// default public signet). It returns an error wrapping heistgraph.ErrInvalid
// for any other network. The returned value is shared: do not modify it.
func ChainParams(net heistgraph.Network) (*chaincfg.Params, error) {
	switch net.Chain {
	case heistgraph.ChainBTC:
		return &chaincfg.MainNetParams, nil
	case heistgraph.ChainBTCTestnet:
		return &chaincfg.TestNet3Params, nil
	case heistgraph.ChainBTCTestnet4:
		return &chaincfg.TestNet4Params, nil
	case heistgraph.ChainBTCRegtest:
		return &chaincfg.RegressionNetParams, nil
	case heistgraph.ChainBTCSignet:
		return &chaincfg.SigNetParams, nil
	}
	return nil, fmt.Errorf("bitcoin: unknown network %q (chain %q): %w", net.Name, net.Chain, heistgraph.ErrInvalid)
}

// addrParams is what address encoding needs from a network, looked up once
// per block rather than once per output.
type addrParams struct {
	pubKeyHash byte   // base58 version byte of P2PKH addresses
	scriptHash byte   // base58 version byte of P2SH addresses
	hrp        string // bech32 human-readable part
}

var (
	mainnetAddr = addrParamsOf(&chaincfg.MainNetParams)
	testnetAddr = addrParamsOf(&chaincfg.TestNet3Params)
	regtestAddr = addrParamsOf(&chaincfg.RegressionNetParams)
)

func addrParamsOf(p *chaincfg.Params) addrParams {
	return addrParams{pubKeyHash: p.PubKeyHashAddrID, scriptHash: p.ScriptHashAddrID, hrp: p.Bech32HRPSegwit}
}

// addrParamsFor returns the address parameters of net, or false for an
// unknown network. Testnet4 and signet share testnet3's prefixes.
func addrParamsFor(net heistgraph.Network) (*addrParams, bool) {
	switch net.Chain {
	case heistgraph.ChainBTC:
		return &mainnetAddr, true
	case heistgraph.ChainBTCTestnet, heistgraph.ChainBTCTestnet4, heistgraph.ChainBTCSignet:
		return &testnetAddr, true
	case heistgraph.ChainBTCRegtest:
		return &regtestAddr, true
	}
	return nil, false
}

var genesisRaw sync.Map // heistgraph.Chain -> []byte

// genesisBytes returns the serialized genesis block of net, from chaincfg.
func genesisBytes(net heistgraph.Network) ([]byte, error) {
	if v, ok := genesisRaw.Load(net.Chain); ok {
		return v.([]byte), nil
	}
	p, err := ChainParams(net)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := p.GenesisBlock.Serialize(&buf); err != nil {
		return nil, fmt.Errorf("bitcoin: serialize %s genesis: %w", net.Name, err)
	}
	v, _ := genesisRaw.LoadOrStore(net.Chain, buf.Bytes())
	return v.([]byte), nil
}

// GenesisHash returns the hash of net's genesis block.
func GenesisHash(net heistgraph.Network) (heistgraph.Hash, error) {
	p, err := ChainParams(net)
	if err != nil {
		return heistgraph.Hash{}, err
	}
	return heistgraph.Hash(*p.GenesisHash), nil
}

// Genesis returns net's genesis block at height 0, decoded from chaincfg's
// GenesisBlock. Every client knows it, so blk files need not hold it. The
// caller owns the returned block.
func Genesis(net heistgraph.Network) (*heistgraph.Block, error) {
	raw, err := genesisBytes(net)
	if err != nil {
		return nil, err
	}
	return DecodeBlock(raw, net)
}
