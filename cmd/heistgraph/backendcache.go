package main

import (
	"context"
	"errors"
	"iter"
	"sync"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/cluster"
	"github.com/heistgraph/heistgraph/store"
)

// viewCache is the store as the API backend's views see it: it memoizes the
// two reads that cluster.Resolver repeats on every request (all labels of a
// chain, and the cluster of every labelled address), which otherwise cost
// most of an address answer on a store with many labels.
//
// It is correct while the serving process is the only writer of labels and
// clusters, which holds for the embedded store (serve holds its lock, and
// every label write goes through the API backend, which calls invalidate).
// A process that also ingests or clusters must invalidate after each batch.
type viewCache struct {
	store.Store

	mu      sync.Mutex
	gen     uint64 // bumped by invalidate; a load started before it is not kept
	labels  map[heistgraph.Chain][]heistgraph.Label
	members map[memberKey]memberEntry
	// resolver answers the address view (app.ResolverKeeper); nil until
	// asked for, and again after invalidate.
	resolver *cluster.Resolver

	// onInvalidate, when set, is called by invalidate (the backend's
	// screener is rebuilt on the new labels).
	onInvalidate func()
}

type memberKey struct {
	chain heistgraph.Chain
	addr  string
}

type memberEntry struct {
	m        store.ClusterMember
	notFound bool
}

// maxCachedMembers bounds the membership cache; it is emptied when full.
const maxCachedMembers = 1 << 16

func newViewCache(st store.Store) *viewCache {
	return &viewCache{Store: st, labels: map[heistgraph.Chain][]heistgraph.Label{}, members: map[memberKey]memberEntry{}}
}

// invalidate forgets everything cached (after a label write).
func (c *viewCache) invalidate() {
	c.mu.Lock()
	c.gen++
	clear(c.labels)
	clear(c.members)
	c.resolver = nil
	c.mu.Unlock()
	if c.onInvalidate != nil {
		c.onInvalidate()
	}
}

// Resolver returns the resolver the views share until the next
// invalidate: it reads a chain's labels (and their clusters) once, not at
// every address answer. One made after an invalidate reads what the
// store holds after the write that called it.
func (c *viewCache) Resolver() *cluster.Resolver {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.resolver == nil {
		c.resolver = cluster.NewResolver(c)
	}
	return c.resolver
}

// Labels serves queries for a whole chain from the cache; others go to the
// store.
func (c *viewCache) Labels(ctx context.Context, q store.LabelQuery) iter.Seq2[heistgraph.Label, error] {
	if q.Chain == "" || q.Category != "" || q.Source != "" || q.Entity != "" {
		return c.Store.Labels(ctx, q)
	}
	return func(yield func(heistgraph.Label, error) bool) {
		c.mu.Lock()
		ls, ok := c.labels[q.Chain]
		gen := c.gen
		c.mu.Unlock()
		if !ok {
			for l, err := range c.Store.Labels(ctx, q) {
				if err != nil {
					yield(heistgraph.Label{}, err)
					return
				}
				ls = append(ls, l)
			}
			c.mu.Lock()
			if c.gen == gen {
				c.labels[q.Chain] = ls
			}
			c.mu.Unlock()
		}
		for _, l := range ls {
			if !yield(l, nil) {
				return
			}
		}
	}
}

// AddressCluster memoizes the store's answer, not found included.
func (c *viewCache) AddressCluster(ctx context.Context, chain heistgraph.Chain, addr string) (store.ClusterMember, error) {
	k := memberKey{chain, addr}
	c.mu.Lock()
	e, ok := c.members[k]
	gen := c.gen
	c.mu.Unlock()
	if ok {
		if e.notFound {
			return store.ClusterMember{}, heistgraph.ErrNotFound
		}
		return e.m, nil
	}
	m, err := c.Store.AddressCluster(ctx, chain, addr)
	if err != nil && !errors.Is(err, heistgraph.ErrNotFound) {
		return m, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if len(c.members) >= maxCachedMembers {
			clear(c.members)
		}
		c.members[k] = memberEntry{m: m, notFound: err != nil}
	}
	c.mu.Unlock()
	return m, err
}
