// Package app is heistgraph's application layer: the questions the
// surfaces answer (the CLI in cmd/heistgraph, the HTTP handlers in server)
// and the views they answer them with, JSON tags included, so that the
// same question gives the same JSON whichever surface asks it.
//
// Each function takes a context, the store role it reads and a request
// struct, and returns a view and an error. Errors wrap heistgraph.ErrInvalid
// for bad input (a malformed id, address or option: exit 2, HTTP 400) and
// heistgraph.ErrNotFound for a well-formed id the store does not hold (exit
// 1, HTTP 404); surfaces classify them, app does not. app never prints:
// what a surface should say beside an answer (stale clusters) is in the
// view (ClustersView.Warning, not in the JSON).
//
// It is not an analysis package: tracing, clustering, labels and the
// incident register are trace, cluster, label and incident; app calls them
// and shapes their answers. It imports no cobra and no net/http.
//
// # Show (show.go)
//
//   - Block(ctx, store.ChainReader, BlockRequest) (BlockView, error): show block.
//   - Tx(ctx, store.ChainReader, TxRequest) (TxView, error): show tx; TxOf(heistgraph.TxRecord) TxView
//     builds the view from a record already read.
//   - Address(ctx, store.ChainReader, AddressRequest) (AddressView, error): show address, with its
//     labels, cluster, clusters' freshness and (History) a page of AddressEventView.
//
// # Clusters (cluster.go)
//
//   - Cluster(ctx, store.Store, ClusterRequest) (ClusterView, error): cluster show (evidence, review,
//     overrides, path --to).
//   - Members(ctx, store.Store, MembersRequest) (MembersView, error): cluster show --members.
//   - Freshness(ctx, store.ChainReader, chain) (ClustersView, error): clusters_height, clusters_behind.
//   - ClusterStatsOf(cluster.Stats) ClusterStatsView: cluster update; OverrideResultOf(chain,
//     cluster.OverrideResult) OverrideResultView: cluster merge and split.
//
// # Labels (labels.go)
//
//   - Labels(ctx, store.Store, LabelsRequest) (LabelsView, error): labels show.
//   - LabelList(ctx, store.Labels, LabelListRequest) (LabelListView, error): labels list.
//   - SeedBuiltin(ctx, store.Labels) error (seed.go): the built-in label set, written once per
//     version; surfaces call it when they open a store.
//
// # Trace (trace.go)
//
//   - Trace(ctx, store.Store, TraceRequest) (TraceView, error): trace (a *trace.Result and
//     ClustersView), entities resolved through clusters (EntityResolver).
//   - Compare(ctx, store.Store, TraceRequest) (CompareView, error): trace --compare.
//   - GroupSinks(trace.SinkList) []SinkGroup and ByEntity(trace.SinkList) []EntityTotal: the one sink
//     aggregation (per kind and entity; per entity).
//
// # Across chains (tracechains.go)
//
//   - TraceChains(ctx, store.Store, []ChainTrace) (ChainsTraceView, error): trace with seeds on
//     several chains (SeedsByChain, SplitSeedChain: chain:ID prefixes), one run per chain.
//   - Holdings([]*trace.Result, []*trace.AccountResult) []ChainHoldings: where the money sits per
//     chain and asset, what crossed a link (trace.Across) counted once, where it arrived; Trace,
//     TraceAccounts and IncidentTrace give it as by_chain when links were followed.
//
// # Incidents (incidents.go, incidenttrace.go)
//
//   - Incidents(ctx, store.Store, IncidentsRequest) (IncidentsView, error): incidents list.
//   - Incident(ctx, store.Store, IncidentRequest) (IncidentView, error): incidents show, with
//     IncidentTrace(ctx, store.Store, heistgraph.Incident) (IncidentTraceView, error): the theft
//     transactions traced with the default policy, entities resolved as Trace does.
//   - Report(ctx, store.Store, ReportRequest) (ReportView, error): incidents report (incident.Report,
//     and the HTML page when asked).
//   - Register(ctx, store.Store): the shipped register merged with the store's imports, with prices.
//   - STIX(ctx, store.Store, STIXRequest) (STIXBundle, error): export stix (one incident or a year).
//
// # Chain choice (chain.go)
//
//   - CandidateChains, Lookup: the chains an id is looked up on (the one asked, or every Bitcoin
//     chain the store holds) and the first that has it.
//   - TraceChain, ClusterChain, ClusterChainOf: the one chain a trace or a cluster command means.
//   - ValidAddress, ValidAddresses, AddressChains, CheckAddress, CheckSeeds, LabelChains: address
//     checks and normalisation per chain.
package app
