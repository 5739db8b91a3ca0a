package btcdtest

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy forwards TCP connections from a loopback port to a node's RPC port
// and can be taken down and brought back, so a test can make a node
// unreachable (connections refused) for a while without stopping it, or
// slow, as if it were far away.
type Proxy struct {
	// URL is the node's RPC URL through the proxy.
	URL string

	target string
	addr   string
	delay  atomic.Int64 // time.Duration added to each request
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// NewProxy returns a running proxy to target (host:port), closed when tb
// ends.
func NewProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{target: target, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.URL = "http://" + p.addr
	p.serve(ln)
	tb.Cleanup(func() {
		p.Down()
		p.wg.Wait()
	})
	return p
}

// SetDelay delays every chunk sent to the node by d, as a node far away
// would (d is about one round trip per call).
func (p *Proxy) SetDelay(d time.Duration) { p.delay.Store(int64(d)) }

// Down closes the listening socket and every open connection: calls
// through the proxy fail until Up.
func (p *Proxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Up listens again on the same address.
func (p *Proxy) Up(tb testing.TB) {
	tb.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		tb.Fatalf("btcdtest: proxy up again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Go(func() { p.forward(c) })
		}
	})
}

func (p *Proxy) forward(c net.Conn) {
	defer c.Close()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer up.Close()
	p.mu.Lock()
	if p.ln == nil { // went down meanwhile
		p.mu.Unlock()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, delayed{c, &p.delay}); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// delayed is a reader that waits before returning each chunk it read.
type delayed struct {
	r     io.Reader
	delay *atomic.Int64
}

func (d delayed) Read(b []byte) (int, error) {
	n, err := d.r.Read(b)
	if w := time.Duration(d.delay.Load()); n > 0 && w > 0 {
		time.Sleep(w)
	}
	return n, err
}
