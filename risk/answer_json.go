package risk

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/heistgraph/heistgraph"
)

// This file writes answers as JSON without reflection: AppendJSON gives
// byte for byte what encoding/json gives for the same value (json.Marshal
// with escapeHTML, an Encoder with SetEscapeHTML(false) without it, minus
// the Encoder's trailing newline). answer_json_test.go and FuzzAnswerJSON
// hold it to that, and every answer the package's script and table tests
// compute is checked too. A field added to Answer, Direct, Indirect, AsOf
// or ConfigJSON must be added here as well: TestAnswerJSONMatchesEncodingJSON
// fills every field by reflection and fails until it is.

// AppendJSON appends a's JSON encoding to dst, as encoding/json encodes
// it; escapeHTML escapes <, > and & in strings as json.Marshal does. It
// fails, as encoding/json does, on a NaN or infinite number (dst is then
// returned as it was).
func (a *Answer) AppendJSON(dst []byte, escapeHTML bool) ([]byte, error) {
	e := jsonWriter{b: dst, html: escapeHTML}
	e.answer(a)
	if e.bad {
		return dst, &json.UnsupportedValueError{Str: "NaN or infinite number in a screening answer"}
	}
	return e.b, nil
}

// AppendJSON appends b's JSON encoding ({"results": [...]}) to dst as
// encoding/json encodes it (each Result as its MarshalJSON writes it).
func (b *Batch) AppendJSON(dst []byte, escapeHTML bool) ([]byte, error) {
	e := jsonWriter{b: dst, html: escapeHTML}
	if b == nil {
		return append(dst, "null"...), nil
	}
	e.b = append(e.b, `{"results":`...)
	list(&e, b.Results, (*jsonWriter).result)
	e.b = append(e.b, '}')
	if e.bad {
		return dst, &json.UnsupportedValueError{Str: "NaN or infinite number in a screening answer"}
	}
	return e.b, nil
}

// jsonWriter appends JSON to b; bad records an unencodable number.
type jsonWriter struct {
	b    []byte
	html bool
	bad  bool
}

// result writes r as Result.MarshalJSON does: with json.Marshal, so
// strings are HTML-escaped whatever the outer encoder's setting (an
// Encoder copies a Marshaler's output as it is).
func (e *jsonWriter) result(r *Result) {
	html := e.html
	e.html = true
	defer func() { e.html = html }()
	if r.Err != nil || r.Answer == nil {
		msg := "not screened"
		if r.Err != nil {
			msg = r.Err.Error()
		}
		e.intField(`{"index":`, int64(r.Index))
		e.strField(`,"error":`, msg)
		e.b = append(e.b, '}')
		return
	}
	e.answer(r.Answer)
}

func (e *jsonWriter) answer(a *Answer) {
	if a == nil {
		e.b = append(e.b, "null"...)
		return
	}
	e.strField(`{"address":`, a.Address)
	e.strField(`,"chain":`, string(a.Chain))
	if a.TxID != nil {
		e.b = append(e.b, `,"txid":`...)
		e.hash(*a.TxID)
	}
	if a.Vout != nil {
		e.b = append(e.b, `,"vout":`...)
		e.b = strconv.AppendUint(e.b, uint64(*a.Vout), 10)
	}
	if a.AmountSat != nil {
		e.intField(`,"amount_sat":`, *a.AmountSat)
	}
	if a.TxHash != nil {
		e.strField(`,"tx_hash":`, a.TxHash.String())
	}
	e.strField(`,"risk":`, string(a.Risk))
	e.b = append(e.b, `,"sanctioned":`...)
	e.bool(a.Sanctioned)
	e.b = append(e.b, `,"cluster_id":`...)
	if a.ClusterID == nil {
		e.b = append(e.b, "null"...)
	} else {
		e.b = strconv.AppendUint(e.b, *a.ClusterID, 10)
	}
	if a.ClusterSize != 0 {
		e.intField(`,"cluster_size":`, a.ClusterSize)
	}
	if a.ClusterConfidence != nil {
		e.floatField(`,"cluster_confidence":`, *a.ClusterConfidence)
	}
	e.b = append(e.b, `,"as_of":`...)
	if a.AsOf == nil {
		e.b = append(e.b, "null"...)
	} else {
		e.intField(`{"block_height":`, a.AsOf.BlockHeight)
		e.intField(`,"time":`, a.AsOf.Time)
		e.b = append(e.b, '}')
	}
	e.strField(`,"direction":`, string(a.Direction))
	if a.ReceivedSat != nil {
		e.intField(`,"received_sat":`, *a.ReceivedSat)
	}
	if a.SentSat != nil {
		e.intField(`,"sent_sat":`, *a.SentSat)
	}
	if len(a.Received) > 0 {
		e.b = append(e.b, `,"received":`...)
		list(e, a.Received, (*jsonWriter).assetAmount)
	}
	e.intField(`,"score":`, int64(a.Score))
	e.b = append(e.b, `,"direct":`...)
	list(e, a.Direct, (*jsonWriter).direct)
	e.b = append(e.b, `,"indirect":`...)
	list(e, a.Indirect, (*jsonWriter).indirect)
	e.b = append(e.b, `,"reasons":`...)
	e.strs(a.Reasons)
	if a.Partial {
		e.b = append(e.b, `,"partial":true`...)
	}
	if len(a.Notes) > 0 {
		e.b = append(e.b, `,"notes":`...)
		e.strs(a.Notes)
	}
	e.b = append(e.b, `,"config":`...)
	e.config(&a.Config)
	e.b = append(e.b, '}')
}

func (e *jsonWriter) direct(d *Direct) {
	e.strField(`{"kind":`, d.Kind)
	e.strField(`,"entity":`, d.Entity)
	e.strField(`,"category":`, d.Category)
	e.strField(`,"source":`, d.Source)
	e.floatField(`,"confidence":`, d.Confidence)
	if d.Share != 0 {
		e.floatField(`,"share":`, d.Share)
	}
	if d.AmountSat != 0 {
		e.intField(`,"amount_sat":`, d.AmountSat)
	}
	if d.Hops != 0 {
		e.intField(`,"hops":`, int64(d.Hops))
	}
	if d.USD != nil {
		e.floatField(`,"usd":`, *d.USD)
	}
	if d.Dusting {
		e.b = append(e.b, `,"possible_dusting":true`...)
	}
	e.amount(d.Amount, d.Asset, d.Decimals)
	e.b = append(e.b, '}')
}

// amount writes the EVM amount fields of Direct and Indirect.
func (e *jsonWriter) amount(amount, asset string, decimals *uint8) {
	if amount != "" {
		e.strField(`,"amount":`, amount)
	}
	if asset != "" {
		e.strField(`,"asset":`, asset)
	}
	if decimals != nil {
		e.intField(`,"decimals":`, int64(*decimals))
	}
}

func (e *jsonWriter) assetAmount(x *AssetAmount) {
	e.strField(`{"asset":`, x.Asset)
	e.strField(`,"amount":`, x.Amount)
	e.intField(`,"decimals":`, int64(x.Decimals))
	e.b = append(e.b, '}')
}

func (e *jsonWriter) indirect(in *Indirect) {
	e.strField(`{"category":`, in.Category)
	e.floatField(`,"share":`, in.Share)
	if in.AmountSat != 0 {
		e.intField(`,"amount_sat":`, in.AmountSat)
	}
	e.intField(`,"hops":`, int64(in.Hops))
	e.amount(in.Amount, in.Asset, in.Decimals)
	e.b = append(e.b, '}')
}

// configEncoding is a ConfigJSON's encoding, made once: every answer of a
// Screener carries the same record, and writing it is a tenth of a
// screen's handling in `serve`. b is indexed by [escapeHTML][NoCluster].
type configEncoding struct {
	of ConfigJSON // the record encoded (NoCluster false, enc nil)
	b  [2][2][]byte
}

// encoded returns c with its encoding attached (c as it is when a number
// in it cannot be encoded).
func (c ConfigJSON) encoded() ConfigJSON {
	c.enc = nil
	enc := &configEncoding{of: c}
	enc.of.NoCluster = false
	for html := range 2 {
		for nc := range 2 {
			x := enc.of
			x.NoCluster = nc == 1
			e := jsonWriter{html: html == 1}
			e.config(&x)
			if e.bad {
				return c
			}
			enc.b[html][nc] = e.b
		}
	}
	c.enc = enc
	return c
}

// matches reports whether c (but for NoCluster) is the record enc encodes:
// an answer's record changed after the screen is written anew. The
// Severity map is compared by identity (a Screener's answers share it).
func (enc *configEncoding) matches(c *ConfigJSON) bool {
	o := &enc.of
	f := math.Float64bits
	return c.H == o.H && f(c.Lambda) == f(o.Lambda) && c.Thresholds == o.Thresholds && sameMap(c.Severity, o.Severity) &&
		len(c.Severity) == len(o.Severity) && c.DustingCap == o.DustingCap && c.DustUSD == o.DustUSD && c.DustSat == o.DustSat &&
		f(c.DustShare) == f(o.DustShare) && c.ServiceBoundary == o.ServiceBoundary && f(c.WeakConfidence) == f(o.WeakConfidence) &&
		c.Budget == o.Budget && c.MaxClusterAddresses == o.MaxClusterAddresses
}

// sameMap reports whether a and b are the same map (not only equal).
func sameMap(a, b map[Severity][]string) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

func (e *jsonWriter) config(c *ConfigJSON) {
	if c.enc != nil && c.enc.matches(c) {
		html, nc := 0, 0
		if e.html {
			html = 1
		}
		if c.NoCluster {
			nc = 1
		}
		e.b = append(e.b, c.enc.b[html][nc]...)
		return
	}
	e.intField(`{"H":`, int64(c.H))
	e.floatField(`,"lambda":`, c.Lambda)
	e.strField(`,"thresholds":`, c.Thresholds)
	e.b = append(e.b, `,"severity":`...)
	if c.Severity == nil {
		e.b = append(e.b, "null"...)
	} else {
		// encoding/json sorts a map's keys; a handful of severities.
		var buf [8]Severity
		keys := buf[:0]
		for k := range c.Severity {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		e.b = append(e.b, '{')
		for i, k := range keys {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.str(string(k))
			e.b = append(e.b, ':')
			e.strs(c.Severity[k])
		}
		e.b = append(e.b, '}')
	}
	e.b = append(e.b, `,"dusting_cap":`...)
	e.bool(c.DustingCap)
	e.intField(`,"dust_usd":`, c.DustUSD)
	e.intField(`,"dust_sat":`, c.DustSat)
	e.floatField(`,"dust_share":`, c.DustShare)
	e.b = append(e.b, `,"service_boundary":`...)
	e.bool(c.ServiceBoundary)
	e.floatField(`,"weak_confidence":`, c.WeakConfidence)
	e.intField(`,"budget":`, int64(c.Budget))
	e.intField(`,"max_cluster_addresses":`, int64(c.MaxClusterAddresses))
	if c.NoCluster {
		e.b = append(e.b, `,"no_cluster":true`...)
	}
	e.b = append(e.b, '}')
}

// strField, floatField and intField write a key (with what comes before
// it: `{"kind":`, `,"share":`) and a value.
func (e *jsonWriter) strField(key, v string) {
	e.b = append(e.b, key...)
	e.str(v)
}

func (e *jsonWriter) floatField(key string, v float64) {
	e.b = append(e.b, key...)
	e.float(v)
}

func (e *jsonWriter) intField(key string, v int64) {
	e.b = append(e.b, key...)
	e.b = strconv.AppendInt(e.b, v, 10)
}

func (e *jsonWriter) bool(v bool) {
	if v {
		e.b = append(e.b, "true"...)
	} else {
		e.b = append(e.b, "false"...)
	}
}

// hash writes h as encoding/json writes an encoding.TextMarshaler: its
// text as a string (hex needs no escaping).
func (e *jsonWriter) hash(h heistgraph.Hash) {
	const digits = "0123456789abcdef"
	e.b = append(e.b, '"')
	for i := 31; i >= 0; i-- {
		e.b = append(e.b, digits[h[i]>>4], digits[h[i]&0x0f])
	}
	e.b = append(e.b, '"')
}

func (e *jsonWriter) strs(ss []string) {
	list(e, ss, func(e *jsonWriter, s *string) { e.str(*s) })
}

// list writes s as encoding/json writes a slice: null when nil, else
// [each element as write writes it].
func list[T any](e *jsonWriter, s []T, write func(*jsonWriter, *T)) {
	if s == nil {
		e.b = append(e.b, "null"...)
		return
	}
	e.b = append(e.b, '[')
	for i := range s {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		write(e, &s[i])
	}
	e.b = append(e.b, ']')
}

// float writes f as encoding/json's floatEncoder (64 bits) does: like
// ES6's number to string, %f between 1e-6 and 1e21, else %e with the
// exponent unpadded.
func (e *jsonWriter) float(f float64) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		e.bad = true
		e.b = append(e.b, "null"...)
		return
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	e.b = strconv.AppendFloat(e.b, f, format, -1, 64)
	if format == 'e' {
		// Clean up e-09 to e-9.
		n := len(e.b)
		if n >= 4 && e.b[n-4] == 'e' && e.b[n-3] == '-' && e.b[n-2] == '0' {
			e.b[n-2] = e.b[n-1]
			e.b = e.b[:n-1]
		}
	}
}

// str writes s as encoding/json's appendString does: control characters,
// quote and backslash escaped (and <, >, & with html), invalid UTF-8 as
// \ufffd, U+2028 and U+2029 escaped.
func (e *jsonWriter) str(s string) {
	const hex = "0123456789abcdef"
	dst := append(e.b, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && (!e.html || (b != '<' && b != '>' && b != '&')) {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	e.b = append(dst, '"')
}
