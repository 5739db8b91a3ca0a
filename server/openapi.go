package server

import (
	"regexp"
	"strings"
)

// schema is a JSON Schema object as OpenAPI 3.0 writes it.
type schema = map[string]any

func str(desc string) schema  { return schema{"type": "string", "description": desc} }
func intg(desc string) schema { return schema{"type": "integer", "description": desc} }
func arr(items schema) schema { return schema{"type": "array", "items": items} }
func object(required []string, props schema) schema {
	s := schema{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

var (
	statusSchema = object([]string{"status"}, schema{"status": str("ok or ready")})

	labelSchema = object([]string{"chain", "address", "category", "source", "confidence"}, schema{
		"chain": str("chain id"), "address": str("address (normalised: EVM and bech32 lower-cased)"),
		"entity": str("entity name"), "category": str("exchange, mixer, sanctioned, dprk, ..."),
		"source": str("source id"), "confidence": schema{"type": "number", "minimum": 0, "maximum": 1},
		"tlp": str("clear, green, amber, amber+strict or red"), "valid_from": intg("Unix seconds; 0 unbounded"),
		"valid_until": intg("Unix seconds; 0 unbounded"), "note": str("free text"),
	})
	labelsBodySchema = object([]string{"labels"}, schema{"labels": schema{"type": "array", "items": labelSchema, "maxItems": MaxLabelItems}})

	screenItemSchema = object(nil, schema{
		"chain": str("chain id"), "address": str("address to screen"), "txid": str("deposit transaction"),
		"vout": intg("deposit output"), "direction": schema{"type": "string", "enum": []any{"received", "sent"}},
	})
	screenBodySchema = schema{"oneOf": []any{
		screenItemSchema,
		object([]string{"items"}, schema{"items": schema{"type": "array", "items": screenItemSchema, "minItems": 1, "maxItems": MaxScreenItems}}),
	}}

	auditSchema = object([]string{"count", "records", "next_after"}, schema{
		"count": intg("records in this page"), "next_after": intg("after= of the next page"),
		"records": arr(object(nil, schema{
			"seq": intg("sequence number"), "time": intg("Unix seconds"), "key_id": str("who"),
			"method": str("HTTP method"), "path": str("request path"), "items": intg("items in the request"),
			"status": intg("status answered"), "risk": str("highest risk answered (screening)"),
		})),
	})
	keyJSONSchema = object([]string{"id", "role"}, schema{
		"id": str("key id"), "role": str("admin, analyst, screener or viewer"), "entity": str("entity scope"),
		"tlp_max": str("TLP clearance"), "created": intg("Unix seconds"), "revoked": intg("Unix seconds; absent while valid"),
	})
	keysSchema    = object([]string{"count", "keys"}, schema{"count": intg("keys"), "keys": arr(keyJSONSchema)})
	keyBodySchema = object([]string{"role"}, schema{
		"role":   schema{"type": "string", "enum": []any{"admin", "analyst", "screener", "viewer"}},
		"entity": str("entity the key is scoped to"), "tlp_max": str("TLP clearance (default green)"),
	})
	newKeySchema = object([]string{"id", "key", "role"}, schema{
		"id": str("key id"), "key": str("the secret, shown only in this answer"), "role": str("role"),
		"entity": str("entity scope"), "tlp_max": str("TLP clearance"), "created": intg("Unix seconds"),
	})
	errorSchema = object([]string{"error"}, schema{"error": str("what went wrong"), "field": str("the malformed field, for 400")})
)

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// OpenAPI returns the OpenAPI 3.0.3 document of the server's routes,
// generated from the route table (so it lists exactly the routes the
// server has).
func (s *Server) OpenAPI() map[string]any {
	paths := map[string]any{}
	for _, rt := range append(s.routes(), metricsRoute) {
		op := schema{"summary": rt.summary, "operationId": operationID(rt)}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.path, -1) {
			params = append(params, schema{"name": m[1], "in": "path", "required": true, "schema": schema{"type": "string"}})
		}
		for _, q := range rt.query {
			params = append(params, schema{"name": q.name, "in": "query", "description": q.desc, "schema": schema{"type": q.typ}})
		}
		if params != nil {
			op["parameters"] = params
		}
		media := "application/json"
		if rt.media != "" {
			media = rt.media
		}
		if rt.body != nil {
			op["requestBody"] = schema{"required": true, "content": schema{media: schema{"schema": rt.body}}}
		}
		ok := schema{"description": "OK", "content": schema{media: schema{"schema": rt.resp}}}
		if rt.path == "/metrics" {
			ok = schema{"description": "Prometheus text exposition", "content": schema{"text/plain": schema{"schema": schema{"type": "string"}}}}
		} else if rt.contentType != "" {
			ok = schema{"description": "OK", "content": schema{rt.contentType: schema{"schema": rt.resp}}}
		}
		resp := schema{"200": ok}
		errRef := func(desc string) schema {
			return schema{"description": desc, "content": schema{"application/json": schema{"schema": schema{"$ref": "#/components/schemas/Error"}}}}
		}
		if rt.role != RoleNone {
			op["security"] = []any{schema{"bearer": []any{}}}
			resp["401"] = errRef("missing, unknown or revoked key")
			resp["403"] = errRef("the key's role may not do this")
			resp["429"] = errRef("rate-limited; see Retry-After")
			resp["400"] = errRef("malformed input; field names it")
			resp["404"] = errRef("unknown id")
			if rt.body != nil {
				resp["413"] = errRef("body or batch too large")
			}
		}
		if rt.path == "/readyz" {
			resp["503"] = errRef("not ready")
		}
		op["responses"] = resp
		item, _ := paths[rt.path].(schema)
		if item == nil {
			item = schema{}
			paths[rt.path] = item
		}
		item[strings.ToLower(rt.method)] = op
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": schema{"title": "heistgraph API", "version": "1",
			"description": "Follows stolen cryptocurrency. Authenticate with Authorization: Bearer KEY (heistgraph keys create). Errors are {\"error\": \"...\"}."},
		"paths": paths,
		"components": schema{
			"securitySchemes": schema{"bearer": schema{"type": "http", "scheme": "bearer"}},
			"schemas":         schema{"Error": errorSchema},
		},
	}
}

// metricsRoute documents GET /metrics, which promhttp serves.
var metricsRoute = route{method: "GET", path: "/metrics", summary: "Prometheus metrics: requests and latency per route, store gauges"}

func operationID(rt route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.method))
	for _, part := range strings.FieldsFunc(rt.path, func(r rune) bool { return r == '/' || r == '.' }) {
		part = strings.Trim(part, "{}")
		if part == "v1" || part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + strings.ReplaceAll(part[1:], "_", ""))
	}
	if len(rt.path) > 1 && strings.HasSuffix(rt.path, "/") {
		b.WriteString("Slash") // the TAXII routes exist with and without it
	}
	return b.String()
}
