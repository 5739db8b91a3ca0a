package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's Prometheus metrics.
type metrics struct {
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	auditBatch  prometheus.Histogram
	auditSync   prometheus.Histogram
	auditErrors prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, stats StatsSource, log *slog.Logger) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "heistgraph_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "heistgraph_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern.",
			Buckets: []float64{.0001, .00025, .0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		auditBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "heistgraph_audit_batch_records",
			Help:    "Audit records written per synced batch (group commit).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11),
		}),
		auditSync: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "heistgraph_audit_sync_seconds",
			Help:    "Time to append one batch of audit records and sync it (or, for screening records on a store that can, to append it without a sync), and to sync the batches appended without one.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 14),
		}),
		auditErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "heistgraph_audit_errors_total",
			Help: "Audit records that could not be written.",
		}),
	}
	reg.MustRegister(m.requests, m.latency, m.auditBatch, m.auditSync, m.auditErrors)
	if stats != nil {
		reg.MustRegister(&storeCollector{src: stats, log: log})
	}
	return m
}

// storeCollector reads the store's gauges at scrape time.
type storeCollector struct {
	src StatsSource
	log *slog.Logger
}

var (
	tipDesc    = prometheus.NewDesc("heistgraph_store_tip_height", "Height of the stored best-chain tip, by chain.", []string{"chain"}, nil)
	labelsDesc = prometheus.NewDesc("heistgraph_store_labels", "Labels stored.", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- tipDesc
	ch <- labelsDesc
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.src.StoreStats(ctx)
	if err != nil {
		c.log.Warn("store stats for /metrics", "err", err)
		return
	}
	for chain, h := range st.Tips {
		ch <- prometheus.MustNewConstMetric(tipDesc, prometheus.GaugeValue, float64(h), string(chain))
	}
	ch <- prometheus.MustNewConstMetric(labelsDesc, prometheus.GaugeValue, float64(st.Labels))
}
