package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/app"
	"github.com/heistgraph/heistgraph/label"
	"github.com/heistgraph/heistgraph/store"
)

// routes is the route table: every route the server has, and nothing else
// (the OpenAPI document is generated from it).
func (s *Server) routes() []route {
	obj := schema{"type": "object"}
	chainQ := param{"chain", "string", "chain (btc, btc-regtest, eth, ...)"}
	rts := []route{
		{method: "GET", path: "/healthz", summary: "Liveness: 200 while the process runs", resp: statusSchema, h: health},
		{method: "GET", path: "/readyz", summary: "Readiness: 200 when the store answers (and a followed node is caught up), 503 while shutting down, while behind the node or while it does not answer", resp: statusSchema, h: ready},
		{method: "GET", path: "/openapi.json", summary: "This document", resp: obj, h: openapiDoc},
		{method: "GET", path: "/v1/addresses/{chain}/{address}", role: RoleViewer, summary: "An address: balance, totals, first and last activity, cluster and labels (show address)", resp: obj, h: getAddress},
		{method: "GET", path: "/v1/txs/{chain}/{txid}", role: RoleViewer, summary: "A transaction with its inputs resolved and its outputs' spenders (show tx)", resp: obj, h: getTx},
		{method: "GET", path: "/v1/blocks/{chain}/{id}", role: RoleViewer, summary: "A block by height or hash (show block)", resp: obj, h: getBlock},
		{method: "GET", path: "/v1/clusters/{id}", role: RoleViewer, summary: "A cluster by id: size, labels, conflicts, evidence (cluster show)",
			query: []param{{"chain", "string", "chain of the cluster (default: the Bitcoin chain the store holds)"}}, resp: obj, h: getCluster},
		{method: "GET", path: "/v1/incidents", role: RoleViewer, summary: "The incident register (incidents list)", resp: obj, h: getIncidents},
		{method: "GET", path: "/v1/incidents/{id}", role: RoleViewer, summary: "One incident with its trace (incidents show)", resp: obj, h: getIncident},
		{method: "GET", path: "/v1/labels", role: RoleViewer, summary: "Stored labels (labels list), filtered; labels above the key's TLP clearance are left out",
			query: []param{chainQ, {"address", "string", "only this address (needs chain)"}, {"category", "string", "only this category"},
				{"source", "string", "only this source id"}, {"entity", "string", "only this entity"}, {"limit", "integer", "at most this many (0: all)"}},
			resp: obj, h: getLabels},
		{method: "POST", path: "/v1/labels", role: RoleAnalyst, audit: auditSync, summary: "Store labels (durable before the answer); at most 10,000 a request",
			body: labelsBodySchema, resp: obj, h: postLabels},
		{method: "POST", path: "/v1/screen", role: RoleScreener, audit: auditAsync, summary: "Screen an address or a deposit {chain, txid, vout}, or a batch {items: [...]} of up to 1,000",
			body: screenBodySchema, resp: obj, h: postScreen, callerInHandler: true},
		{method: "GET", path: "/v1/audit", role: RoleAdmin, summary: "The audit log, oldest first",
			query: []param{{"after", "integer", "only records after this sequence number"}, {"limit", "integer", "at most this many (default 1000)"}},
			resp:  auditSchema, h: getAudit},
		{method: "GET", path: "/v1/keys", role: RoleAdmin, summary: "Every API key (without secrets)", resp: keysSchema, h: getKeys},
		{method: "POST", path: "/v1/keys", role: RoleAdmin, audit: auditSync, summary: "Create a key; its secret is in this answer only",
			body: keyBodySchema, resp: newKeySchema, h: postKey},
		{method: "DELETE", path: "/v1/keys/{id}", role: RoleAdmin, audit: auditSync, summary: "Revoke a key", resp: keyJSONSchema, h: deleteKey},
	}
	rts = append(rts, monitorRoutes()...)
	rts = append(rts, payrollRoutes()...)
	rts = append(rts, reportRoutes()...)
	rts = append(rts, traceRoutes()...)
	rts = append(rts, eventRoutes()...)
	rts = append(rts, taxiiRoutes()...)
	rts = append(rts, feedRoutes()...)
	return append(rts, watchRoutes()...)
}

func health(*Server, http.ResponseWriter, *http.Request, *reqInfo) (any, error) {
	return map[string]string{"status": "ok"}, nil
}

func ready(s *Server, w http.ResponseWriter, r *http.Request, _ *reqInfo) (any, error) {
	if s.closing.Load() {
		return nil, errShutdown
	}
	// A key lookup is the cheapest question that needs the store open.
	if _, err := s.keys.KeyByHash(r.Context(), [32]byte{1}); err != nil && !errors.Is(err, heistgraph.ErrNotFound) {
		return nil, &statusError{status: http.StatusServiceUnavailable, msg: "store not ready: " + err.Error()}
	}
	if rd, ok := s.backend.(Readiness); ok {
		if why := rd.NotReady(); why != "" {
			return nil, &statusError{status: http.StatusServiceUnavailable, msg: why}
		}
	}
	out := map[string]any{"status": "ready"}
	if d, ok := s.backend.(ReadyDetailer); ok {
		for k, v := range d.ReadyDetail() {
			if k != "status" {
				out[k] = v
			}
		}
	}
	return out, nil
}

func openapiDoc(s *Server, w http.ResponseWriter, _ *http.Request, _ *reqInfo) (any, error) {
	return s.OpenAPI(), nil
}

// pathChain parses the {chain} path parameter.
func pathChain(r *http.Request) (heistgraph.Chain, error) {
	c, err := heistgraph.ParseChain(r.PathValue("chain"))
	if err != nil {
		return "", fieldErr("chain", err)
	}
	return c, nil
}

// checkAddress validates and normalises an address given for chain.
func checkAddress(field string, chain heistgraph.Chain, addr string) (string, error) {
	n, err := heistgraph.NormalizeAddress(chain, addr)
	if err != nil {
		return "", fieldErr(field, err)
	}
	return n, nil
}

func getAddress(s *Server, _ http.ResponseWriter, r *http.Request, _ *reqInfo) (any, error) {
	c, err := pathChain(r)
	if err != nil {
		return nil, err
	}
	if c.IsEVM() {
		addr, err := heistgraph.ParseEVMAddress(r.PathValue("address"))
		if err != nil {
			return nil, fieldErr("address", err)
		}
		av, err := s.accountViews(c)
		if err != nil {
			return nil, err
		}
		return av.EVMAddress(r.Context(), c, addr)
	}
	addr, err := checkAddress("address", c, r.PathValue("address"))
	if err != nil {
		return nil, err
	}
	return s.backend.Address(r.Context(), c, addr)
}

// accountViews returns the backend's EVM views, or an error wrapping
// heistgraph.ErrNotFound when it has none.
func (s *Server) accountViews(c heistgraph.Chain) (AccountViews, error) {
	av, ok := s.backend.(AccountViews)
	if !ok {
		return nil, fmt.Errorf("chain %s: this server holds no EVM chains: %w", c, heistgraph.ErrNotFound)
	}
	return av, nil
}

func getTx(s *Server, _ http.ResponseWriter, r *http.Request, _ *reqInfo) (any, error) {
	c, err := pathChain(r)
	if err != nil {
		return nil, err
	}
	if c.IsEVM() {
		txid, err := heistgraph.ParseEVMHash(r.PathValue("txid"))
		if err != nil {
			return nil, fieldErr("txid", err)
		}
		av, err := s.accountViews(c)
		if err != nil {
			return nil, err
		}
		return av.EVMTx(r.Context(), c, txid)
	}
	txid, err := heistgraph.ParseHash(r.PathValue("txid"))
	if err != nil {
		return nil, fieldErr("txid", err)
	}
	return s.backend.Tx(r.Context(), c, txid)
}

func getBlock(s *Server, _ http.ResponseWriter, r *http.Request, _ *reqInfo) (any, error) {
	c, err := pathChain(r)
	if err != nil {
		return nil, err
	}
	id := r.PathValue("id")
	if c.IsEVM() {
		if h, err := strconv.ParseInt(id, 10, 64); err == nil {
			if h < 0 {
				return nil, fieldErrf("id", "negative height %d", h)
			}
		} else if _, err := heistgraph.ParseEVMHash(id); err != nil {
			return nil, fieldErr("id", fmt.Errorf("want a height or a block hash: %w", err))
		}
		av, err := s.accountViews(c)
		if err != nil {
			return nil, err
		}
		return av.EVMBlock(r.Context(), c, id)
	}
	if h, err := strconv.ParseInt(id, 10, 64); err == nil && len(id) < 64 {
		if h < 0 {
			return nil, fieldErrf("id", "negative height %d", h)
		}
	} else if _, err := heistgraph.ParseHash(id); err != nil {
		return nil, fieldErr("id", fmt.Errorf("want a height or a block hash: %w", err))
	}
	return s.backend.Block(r.Context(), c, id)
}

func getCluster(s *Server, _ http.ResponseWriter, r *http.Request, _ *reqInfo) (any, error) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil || id == 0 {
		return nil, fieldErrf("id", "cluster id %q is not a positive integer", r.PathValue("id"))
	}
	var c heistgraph.Chain
	if q := r.URL.Query().Get("chain"); q != "" {
		if c, err = heistgraph.ParseChain(q); err != nil {
			return nil, fieldErr("chain", err)
		}
	}
	return s.backend.Cluster(r.Context(), c, id)
}

func getIncidents(s *Server, _ http.ResponseWriter, r *http.Request, _ *reqInfo) (any, error) {
	return s.backend.Incidents(r.Context())
}

func getIncident(s *Server, _ http.ResponseWriter, r *http.Request, _ *reqInfo) (any, error) {
	id := strings.TrimSpace(r.PathValue("id"))
	if id == "" || len(id) > 200 {
		return nil, fieldErrf("id", "incident id %.40q", id)
	}
	return s.backend.Incident(r.Context(), id)
}

// queryInt parses an optional non-negative integer query parameter.
func queryInt(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fieldErrf(name, "%q is not a non-negative integer", v)
	}
	return n, nil
}

func getLabels(s *Server, _ http.ResponseWriter, r *http.Request, _ *reqInfo) (any, error) {
	q := r.URL.Query()
	lq := LabelQuery{LabelQuery: store.LabelQuery{Category: q.Get("category"), Source: q.Get("source"), Entity: q.Get("entity")}}
	if c := q.Get("chain"); c != "" {
		ch, err := heistgraph.ParseChain(c)
		if err != nil {
			return nil, fieldErr("chain", err)
		}
		lq.Chain = ch
	}
	if a := q.Get("address"); a != "" {
		if lq.Chain == "" {
			return nil, fieldErrf("chain", "address given without chain")
		}
		addr, err := checkAddress("address", lq.Chain, a)
		if err != nil {
			return nil, err
		}
		lq.Address = addr
	}
	var err error
	if lq.Limit, err = queryInt(r, "limit", 0); err != nil {
		return nil, err
	}
	caller, _ := CallerFrom(r.Context())
	lq.TLPMax = caller.TLPMax
	return s.backend.Labels(r.Context(), lq)
}

// LabelJSON is a label as POST /v1/labels takes it and GET /v1/labels and
// labels list give it (app.LabelRowView).
type LabelJSON = app.LabelRowView

// LabelsRequest is the body of POST /v1/labels.
type LabelsRequest struct {
	Labels []LabelJSON `json:"labels"`
}

// decodeBody decodes a JSON object body into v: a body that is not one
// JSON object of the expected shape wraps heistgraph.ErrInvalid; a body
// over the limit answers 413.
func decodeBody(r *http.Request, v any) error {
	if r.Body == nil {
		return fieldErrf("body", "empty request body")
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return fmt.Errorf("read request body: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return fieldErrf(te.Field, "want %s, got JSON %s", te.Type, te.Value)
		}
		return fieldErrf("body", "not a JSON object of the expected shape: %v", err)
	}
	if dec.More() {
		return fieldErrf("body", "more than one JSON value")
	}
	return nil
}

// readRawBody returns the one JSON value of r's body as decodeBody into a
// json.RawMessage would, and with its errors, but checks a well-formed
// body with one pass of json.Valid instead of decoding it (every screen
// comes this way).
func readRawBody(r *http.Request) (json.RawMessage, error) {
	if r.Body == nil {
		return nil, fieldErrf("body", "empty request body")
	}
	data, err := readAll(r.Body, r.ContentLength)
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if v := bytes.Trim(data, " \t\r\n"); json.Valid(v) {
		return v, nil
	}
	var raw json.RawMessage
	r.Body = io.NopCloser(bytes.NewReader(data))
	if err := decodeBody(r, &raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// readAll reads body to its end as io.ReadAll does (with its errors), into
// one buffer of the length the request declares when it declares a small
// one (a screen is about 100 bytes; io.ReadAll starts at 512).
func readAll(body io.Reader, declared int64) ([]byte, error) {
	if declared <= 0 || declared > 64<<10 {
		return io.ReadAll(body)
	}
	buf := make([]byte, 0, declared)
	for len(buf) < cap(buf) {
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	// Nothing more, unless the body outruns its length; a reader that gave
	// the last byte without io.EOF is asked once more before io.ReadAll
	// (whose 512-byte buffer would be garbage at every such request).
	var probe [1]byte
	n, err := body.Read(probe[:])
	buf = append(buf, probe[:n]...)
	switch {
	case err == io.EOF:
		return buf, nil
	case err != nil:
		return buf, err
	}
	rest, err := io.ReadAll(body)
	return append(buf, rest...), err
}

func postLabels(s *Server, _ http.ResponseWriter, r *http.Request, info *reqInfo) (any, error) {
	var req LabelsRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	info.items = len(req.Labels)
	if len(req.Labels) == 0 {
		return nil, fieldErrf("labels", "no labels")
	}
	if len(req.Labels) > MaxLabelItems {
		return nil, tooLarge("%d labels in one request; at most %d", len(req.Labels), MaxLabelItems)
	}
	ls := make([]heistgraph.Label, len(req.Labels))
	for i, j := range req.Labels {
		l, err := labelOf(j)
		if err != nil {
			var fe *FieldError
			if errors.As(err, &fe) {
				return nil, fieldErr(fmt.Sprintf("labels[%d].%s", i, fe.Field), fe.Err)
			}
			return nil, err
		}
		ls[i] = l
	}
	return s.backend.PutLabels(r.Context(), ls)
}

// labelOf validates j and returns it as a label with its address normalised.
func labelOf(j LabelJSON) (heistgraph.Label, error) {
	c, err := heistgraph.ParseChain(string(j.Chain))
	if err != nil {
		return heistgraph.Label{}, fieldErr("chain", err)
	}
	addr, err := checkAddress("address", c, j.Address)
	if err != nil {
		return heistgraph.Label{}, err
	}
	l := heistgraph.Label{Chain: c, Address: addr, Entity: strings.TrimSpace(j.Entity), Category: strings.TrimSpace(j.Category),
		Source: strings.TrimSpace(j.Source), Confidence: j.Confidence, ValidFrom: j.ValidFrom, ValidUntil: j.ValidUntil, Note: j.Note}
	switch {
	case l.Category == "":
		return l, fieldErrf("category", "empty")
	case l.Source == "":
		return l, fieldErrf("source", "empty")
	case !(l.Confidence >= 0 && l.Confidence <= 1):
		return l, fieldErrf("confidence", "%v is outside [0, 1]", l.Confidence)
	case l.ValidUntil != 0 && l.ValidUntil < l.ValidFrom:
		return l, fieldErrf("valid_until", "before valid_from")
	}
	if j.TLP != "" {
		if l.TLP, err = label.ParseTLP(j.TLP); err != nil {
			return l, fieldErr("tlp", err)
		}
	}
	return l, nil
}

// screenEnvelope is what the server reads of a screening request.
type screenEnvelope struct {
	Items *[]json.RawMessage `json:"items"`
}

func postScreen(s *Server, _ http.ResponseWriter, r *http.Request, info *reqInfo) (any, error) {
	raw, err := readRawBody(r)
	if err != nil {
		return nil, err
	}
	if len(raw) == 0 || raw[0] != '{' {
		return nil, fieldErrf("body", "want a JSON object")
	}
	var env screenEnvelope
	var (
		epoch ScreenEpoch
		now   int64
		keep  bool // the answer may be kept in s.answers
	)
	if mayHaveItems(raw) {
		if err := json.Unmarshal(raw, &env); err != nil {
			return nil, fieldErrf("items", "want an array of objects: %v", err)
		}
	} else if s.answers != nil && len(raw) <= maxCachedRequest {
		// A single screen: its answer may be kept. The epoch is read
		// before the answer is computed, so that a write meanwhile leaves
		// the answer under an epoch that is already over.
		if epoch, now, keep = s.cacher.ScreenEpoch(); keep {
			if en, ok := s.answers.get(raw, epoch, now); ok {
				info.items, info.risk = 1, en.risk
				return en, nil
			}
		}
	}
	req := ScreenRequest{Items: []json.RawMessage{raw}, Body: raw}
	if env.Items != nil {
		req = ScreenRequest{Items: *env.Items, Batch: true, Body: raw}
		switch n := len(req.Items); {
		case n == 0:
			return nil, fieldErrf("items", "empty batch")
		case n > MaxScreenItems:
			info.items = n
			return nil, tooLarge("%d items in one batch; at most %d", n, MaxScreenItems)
		}
	}
	info.items = len(req.Items)
	// The route leaves the caller out of r's context (a copy of the
	// request a screen from the answer cache does not need): the backend
	// gets it here.
	res, err := s.backend.Screen(withCaller(r.Context(), info.caller), req)
	if err != nil {
		return nil, err
	}
	info.risk = highestRisk(res.Risks)
	if keep && !req.Batch && res.Until > now {
		if a, ok := res.Answer.(jsonAppender); ok {
			if b, err := a.AppendJSON(make([]byte, 0, 2048), false); err == nil {
				en := newEntry(raw, append(b, '\n'), info.risk, res.Until)
				s.answers.put(en, epoch)
				return en, nil
			}
		}
	}
	return res.Answer, nil
}

// mayHaveItems reports whether a valid JSON body may hold an "items" key
// as encoding/json matches it (case-insensitively, Unicode folding
// included, after unescaping). A body of ASCII without backslashes and
// without "item" in any case cannot, and needs no envelope decoding: a
// single screen, the common request, is then read once, by the engine.
func mayHaveItems(raw []byte) bool {
	for i, b := range raw {
		switch {
		case b == '\\' || b >= 0x80:
			return true
		case b|0x20 == 'i' && i+4 <= len(raw) && raw[i+1]|0x20 == 't' && raw[i+2]|0x20 == 'e' && raw[i+3]|0x20 == 'm':
			return true
		}
	}
	return false
}

var riskOrder = []string{"none", "low", "medium", "high", "severe"}

// highestRisk returns the highest of the risk levels answered ("" when
// none).
func highestRisk(risks []string) string {
	best, rank := "", -1
	for _, r := range risks {
		for i, o := range riskOrder {
			if o == r && i > rank {
				best, rank = r, i
			}
		}
	}
	return best
}
