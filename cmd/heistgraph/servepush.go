package main

import (
	"fmt"
	"net/url"

	"github.com/btcsuite/btcd/btcutil/v2"
	"github.com/btcsuite/btcd/rpcclient"
	"github.com/btcsuite/btcd/wire/v2"
)

// blockPush subscribes to the followed node's block notifications over its
// websocket (btcd's /ws endpoint and notifyblocks, through btcd's
// rpcclient, which reconnects and subscribes again by itself) and returns a
// channel that receives when a block is connected or disconnected: the
// follow then asks the node at once instead of at its next poll. A node
// without that websocket (Bitcoin Core) returns an error, and the follow
// just polls. stop closes the connection without waiting.
func blockPush(rawURL, user, pass string) (wake <-chan struct{}, stop func(), err error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, nil, fmt.Errorf("block push: --btc-rpc %q is no URL", rawURL)
	}
	if user == "" && u.User != nil {
		user = u.User.Username()
		pass, _ = u.User.Password()
	}
	ch := make(chan struct{}, 1)
	poke := func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	cfg := &rpcclient.ConnConfig{Host: u.Host, Endpoint: "ws", User: user, Pass: pass, DisableTLS: u.Scheme != "https"}
	client, err := rpcclient.New(cfg, &rpcclient.NotificationHandlers{
		OnFilteredBlockConnected:    func(int32, *wire.BlockHeader, []*btcutil.Tx) { poke() },
		OnFilteredBlockDisconnected: func(int32, *wire.BlockHeader) { poke() },
	})
	if err != nil {
		return nil, nil, fmt.Errorf("block push: websocket of %s: %w", u.Host, err)
	}
	if err := client.NotifyBlocks(); err != nil {
		client.Shutdown()
		client.WaitForShutdown()
		return nil, nil, fmt.Errorf("block push: notifyblocks: %w", err)
	}
	// stop does not wait for the client's goroutines: while the node is
	// down its reconnect loop sleeps through its backoff (up to a minute)
	// without watching for the shutdown. They touch nothing but the
	// connection, and end with the process.
	return ch, client.Shutdown, nil
}
