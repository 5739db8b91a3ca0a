package label

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/heistgraph/heistgraph"
	"gopkg.in/yaml.v3"
)

// SourceTagPackPrefix starts the source of every TagPack label; the pack's
// title (or, without one, its file name) follows.
const SourceTagPackPrefix = "tagpack:"

// maxTagPack bounds the YAML a TagPack import reads into memory.
const maxTagPack = 256 << 20

// tagpackConfidence is GraphSense's confidence scale: the level (0..100) of
// each confidence id, from src/tagpack/db/confidence.csv of
// github.com/graphsense/graphsense-tagpack-tool at commit fcddd3ad04a4.
// A label's confidence is level/100.
var tagpackConfidence = map[string]int{
	"override":               100,
	"ownership":              100,
	"ledger_immanent":        100,
	"manual_transaction":     90,
	"service_api":            70,
	"forensic_investigation": 70,
	"authority_data":         60,
	"trusted_provider":       50,
	"service_data":           50,
	"forensic":               50,
	"untrusted_transaction":  40,
	"web_crawl":              20,
	"heuristic":              10,
	"unknown":                5,
}

// tagpackCategories maps GraphSense concept ids (the concepts taxonomy of
// graphsense-tagpack-tool src/tagpack/db/concepts.yaml, plus ids seen in the
// public actor pack), used in a tag's category, abuse or concepts, to ours.
// "sanction" is absent: see ReadTagPack.
var tagpackCategories = map[string]string{
	"exchange":           CategoryExchange,
	"mixing_service":     CategoryMixer,
	"mixing":             CategoryMixer,
	"coinjoin":           CategoryMixer,
	"defi_bridge":        CategoryBridge,
	"defi_dex":           CategoryDEX,
	"defi":               CategoryDeFi,
	"defi_lending":       CategoryDeFi,
	"defi_derivative":    CategoryDeFi,
	"defi_derivatives":   CategoryDeFi,
	"gambling":           CategoryGambling,
	"miner":              CategoryMining,
	"mining_service":     CategoryMining,
	"payment_processor":  CategoryPaymentProcessor,
	"wallet_service":     CategoryWalletService,
	"escrow_wallet":      CategoryWalletService,
	"perpetrator":        CategoryIllicitActor,
	"victim":             CategoryVictim,
	"ransomware":         CategoryRansomware,
	"scam":               CategoryScam,
	"phishing":           CategoryScam,
	"sextortion":         CategoryScam,
	"investment_fraud":   CategoryScam,
	"ponzi_scheme":       CategoryScam,
	"pyramid_scheme":     CategoryScam,
	"social_engineering": CategoryScam,
	"extortion":          CategoryIllicitActor,
	"financial_crime":    CategoryIllicitActor,
	"money_laundering":   CategoryIllicitActor,
	"payment_card_fraud": CategoryIllicitActor,
	"hacking":            CategoryIllicitActor,
	"drugs":              CategoryIllicitActor,
	"weapons":            CategoryIllicitActor,
	"violence":           CategoryIllicitActor,
	"torture":            CategoryIllicitActor,
	"service_hack":       CategoryStolen,
	"terrorism":          CategoryTerroristFinancing,
	"extremism":          CategoryTerroristFinancing,
	"child_sexual_abuse": CategoryCSAM,
	"dark_web":           CategoryDarknet,
}

// tagpackDPRKActors are GraphSense actor ids of North Korean state actors
// (the public actor pack has lazarusgroup; the rest are common aliases).
var tagpackDPRKActors = map[string]bool{
	"lazarusgroup": true, "lazarus": true, "lazarus_group": true, "apt38": true,
	"bluenoroff": true, "andariel": true, "kimsuky": true, "tradertraitor": true,
}

// sanctionsAuthorities are the hosts (and their subdomains) whose pages are
// sanctions authorities' own publications.
var sanctionsAuthorities = []string{"treasury.gov", "treas.gov", "un.org"}

// categoryUnknown is the category of a tag that names none.
const categoryUnknown = "unknown"

// ReadTagPack streams the labels of a GraphSense TagPack: a YAML mapping
// whose header (title, creator, description, is_public, lastmod, and
// defaults for any tag field: label, source, currency, network, confidence,
// category, abuse, actor, concepts, is_cluster_definer, context) applies to
// each entry of its tags list unless the tag sets the field itself. Tags
// without address (tx_hash tags) are skipped.
//
// Per tag:
//   - Chain: network, else currency, through AssetChain (BTC is btc, ETH
//     eth, BEP20 bsc, TRX tron, USDT by address format; surrounding space
//     is ignored, so "BTC " works).
//   - Entity: label, else actor, else the pack's title.
//   - Categories: category, abuse and concepts mapped through the table in
//     the package documentation (mixing_service and coinjoin are mixer,
//     service_hack stolen, ...); dprk when actor is a North Korean actor
//     (lazarusgroup); sanctioned when category, abuse or concepts say
//     "sanction" and the tag's source is a page of a sanctions authority
//     (treasury.gov, treas.gov, un.org): "sanctioned" is a hard block in
//     screening, and packs tag FBI-attributed addresses "sanction" too. A
//     tag that maps to none of ours keeps its GraphSense category (or
//     abuse) as is ("organization", "service", "market"), or "unknown".
//     One label per category.
//   - Confidence: the GraphSense confidence id's level / 100 (authority_data
//     0.6, service_data 0.5, forensic 0.5, web_crawl 0.2, ...); a number
//     0..100 is taken as a level; missing means "unknown" (0.05).
//   - Source: "tagpack:" + title (file name without extension if none);
//     Note keeps the tag's source URL, actor, GraphSense category, abuse,
//     confidence id and is_cluster_definer.
//   - TLP: amber when is_public is false, else clear.
//
// Identical labels (a pack listing an address twice) are yielded once. The
// document is read into memory (at most 256 MiB). Stream contract and errors
// as for Read: broken YAML, a document that is not a mapping, and a missing
// or non-list tags end the import; a tag that is not a mapping, has no
// address, an unusable currency, an address invalid for its chain or an
// unknown confidence id is a row-level ParseError naming its line and key.
func ReadTagPack(r io.Reader, opts Options) iter.Seq2[heistgraph.Label, error] {
	return func(yield func(heistgraph.Label, error) bool) {
		in, err := open(r, opts)
		if err != nil {
			yield(heistgraph.Label{}, err)
			return
		}
		data, err := io.ReadAll(io.LimitReader(in, maxTagPack+1))
		if err != nil {
			yield(heistgraph.Label{}, inputErr(opts.Name, 0, err))
			return
		}
		if len(data) > maxTagPack {
			yield(heistgraph.Label{}, parseErr(opts.Name, 0, "", "TagPack larger than %d bytes", maxTagPack))
			return
		}
		header, tags, err := decodeTagPack(data, opts.Name)
		if err != nil {
			yield(heistgraph.Label{}, err)
			return
		}
		title, _ := scalar(header["title"])
		if title == "" {
			title = strings.SplitN(baseName(opts.Name), ".", 2)[0]
		}
		if title == "" {
			title = "untitled"
		}
		tp := tagPack{file: opts.Name, title: title, header: header}
		seen := map[string]bool{}
		for i, t := range tags.Content {
			ls, err := tp.tag(i, deref(t))
			if err != nil {
				if !skip(&opts, yield, err) {
					return
				}
				continue
			}
			for _, l := range ls {
				key := string(l.Chain) + " " + l.Address + " " + l.Category
				if seen[key] {
					continue
				}
				seen[key] = true
				if !yield(l, nil) {
					return
				}
			}
		}
	}
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// decodeTagPack parses the YAML document and splits it into the header
// fields and the tags sequence.
func decodeTagPack(data []byte, file string) (map[string]*yaml.Node, *yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, parseErr(file, 0, "", "empty document")
		}
		line := 0
		if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		return nil, nil, parseErr(file, line, "", "%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = deref(root.Content[0])
	}
	if root.Kind != yaml.MappingNode {
		return nil, nil, parseErr(file, root.Line, "", "a TagPack is a YAML mapping with a tags list")
	}
	header := map[string]*yaml.Node{}
	var tags *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i].Value, deref(root.Content[i+1])
		if k == "tags" {
			tags = v
			continue
		}
		header[k] = v
	}
	if tags == nil {
		return nil, nil, parseErr(file, root.Line, "tags", "TagPack has no tags list")
	}
	if tags.Kind != yaml.SequenceNode {
		if tags.Kind == yaml.ScalarNode && tags.Tag == "!!null" {
			tags = &yaml.Node{Kind: yaml.SequenceNode}
		} else {
			return nil, nil, parseErr(file, tags.Line, "tags", "tags is not a list")
		}
	}
	return header, tags, nil
}

// deref follows a YAML alias.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 8; i++ {
		n = n.Alias
	}
	return n
}

// scalar returns n's text if it is a scalar (trimmed; "" for null), and
// whether n was a scalar or absent.
func scalar(n *yaml.Node) (string, bool) {
	if n = deref(n); n == nil {
		return "", true
	}
	if n.Kind != yaml.ScalarNode {
		return "", false
	}
	if n.Tag == "!!null" {
		return "", true
	}
	return strings.TrimSpace(n.Value), true
}

// tagPack holds what every tag of one pack shares.
type tagPack struct {
	file, title string
	header      map[string]*yaml.Node
}

// tag turns the i-th tag into labels.
func (tp *tagPack) tag(i int, t *yaml.Node) ([]heistgraph.Label, *ParseError) {
	if t == nil || t.Kind != yaml.MappingNode {
		line := 0
		if t != nil {
			line = t.Line
		}
		return nil, parseErr(tp.file, line, fmt.Sprintf("tags[%d]", i), "a tag is a mapping")
	}
	fields := map[string]*yaml.Node{}
	for j := 0; j+1 < len(t.Content); j += 2 {
		fields[t.Content[j].Value] = deref(t.Content[j+1])
	}
	node := func(k string) *yaml.Node {
		if n, ok := fields[k]; ok {
			return n
		}
		return tp.header[k]
	}
	line := func(k string) int {
		if n := node(k); n != nil && n.Line > 0 {
			return n.Line
		}
		return t.Line
	}
	var bad *ParseError
	get := func(k string) string {
		s, ok := scalar(node(k))
		if !ok && bad == nil {
			bad = parseErr(tp.file, line(k), k, "want a single value")
		}
		return s
	}
	addr, asset := get("address"), get("network")
	if asset == "" {
		asset = get("currency")
	}
	label, actor, src, confID := get("label"), get("actor"), get("source"), get("confidence")
	category, abuse := strings.ToLower(get("category")), strings.ToLower(get("abuse"))
	public, definer := get("is_public"), get("is_cluster_definer")
	if bad != nil {
		return nil, bad
	}
	if addr == "" {
		if _, ok := fields["tx_hash"]; ok {
			return nil, nil
		}
		return nil, parseErr(tp.file, t.Line, "address", "tag has no address")
	}
	if asset == "" {
		return nil, parseErr(tp.file, t.Line, "currency", "tag has no currency or network")
	}
	chain, a, fix, err := place(asset, addr)
	if err != nil {
		return nil, &ParseError{File: tp.file, Line: line("address"), Field: "address", Err: err}
	}
	conf, err := tagpackLevel(confID)
	if err != nil {
		return nil, &ParseError{File: tp.file, Line: line("confidence"), Field: "confidence", Err: err}
	}
	var concepts []string
	if n := node("concepts"); n != nil {
		switch n.Kind {
		case yaml.SequenceNode:
			for _, c := range n.Content {
				if s, ok := scalar(c); ok && s != "" {
					concepts = append(concepts, strings.ToLower(s))
				}
			}
		case yaml.ScalarNode:
			if s, _ := scalar(n); s != "" {
				concepts = append(concepts, strings.ToLower(s))
			}
		default:
			return nil, parseErr(tp.file, line("concepts"), "concepts", "want a list")
		}
	}
	cats := tagpackCats(category, abuse, concepts, strings.ToLower(actor), src)
	entity := label
	if entity == "" {
		entity = actor
	}
	if entity == "" {
		entity = tp.title
	}
	tlp := TLPClear
	if isFalse(public) {
		tlp = TLPAmber
	}
	if !isTrue(definer) {
		definer = ""
	} else {
		definer = "true"
	}
	if confID == "" {
		confID = "unknown (missing)"
	}
	note := notes("source", src, "actor", actor, "category", category, "abuse", abuse,
		"confidence", confID, "is_cluster_definer", definer, "chain", fix)
	out := make([]heistgraph.Label, 0, len(cats))
	for _, c := range cats {
		out = append(out, heistgraph.Label{Chain: chain, Address: a, Entity: entity, Category: c,
			Source: SourceTagPackPrefix + tp.title, Confidence: conf, TLP: tlp, Note: note})
	}
	return out, nil
}

// tagpackLevel maps a GraphSense confidence id (or a number 0..100) to
// [0, 1]. Empty is "unknown".
func tagpackLevel(id string) (float64, error) {
	if id == "" {
		return float64(tagpackConfidence["unknown"]) / 100, nil
	}
	if lvl, ok := tagpackConfidence[strings.ToLower(id)]; ok {
		return float64(lvl) / 100, nil
	}
	if n, err := strconv.ParseFloat(id, 64); err == nil && n >= 0 && n <= 100 {
		return n / 100, nil
	}
	return 0, fmt.Errorf("unknown confidence %q (want a GraphSense confidence id such as authority_data, service_data, forensic, web_crawl): %w",
		id, heistgraph.ErrInvalid)
}

// tagpackCats derives a tag's categories; see ReadTagPack.
func tagpackCats(category, abuse string, concepts []string, actor, src string) []string {
	var out []string
	add := func(c string) {
		for _, have := range out {
			if have == c {
				return
			}
		}
		out = append(out, c)
	}
	sanction := false
	for _, id := range append([]string{category, abuse}, concepts...) {
		if id == "sanction" {
			sanction = true
		}
		if c, ok := tagpackCategories[id]; ok {
			add(c)
		}
	}
	if sanction && fromSanctionsAuthority(src) {
		add(CategorySanctioned)
	}
	if tagpackDPRKActors[actor] {
		add(CategoryDPRK)
	}
	if len(out) == 0 {
		for _, id := range []string{category, abuse} {
			if id != "" && id != "sanction" && ValidateCategory(id) == nil {
				return []string{id}
			}
		}
		return []string{categoryUnknown}
	}
	return out
}

// fromSanctionsAuthority reports whether src is a URL on a sanctions
// authority's host.
func fromSanctionsAuthority(src string) bool {
	u, err := url.Parse(strings.TrimSpace(src))
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	for _, h := range sanctionsAuthorities {
		if host == h || strings.HasSuffix(host, "."+h) {
			return true
		}
	}
	return false
}

func isTrue(s string) bool {
	switch strings.ToLower(s) {
	case "true", "yes", "on", "1":
		return true
	}
	return false
}

func isFalse(s string) bool {
	switch strings.ToLower(s) {
	case "false", "no", "off", "0":
		return true
	}
	return false
}
