package label

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/heistgraph/heistgraph"
	"gopkg.in/yaml.v3"
)

// SourceTagPackPrefix starts the source of every TagPack label; the pack's
// title (or, without one, its file name) follows.
const SourceTagPackPrefix = "tagpack:"

// tagpackWhole is the size up to which a TagPack is parsed as one YAML
// document; a larger one is streamed tag by tag (see ReadTagPack).
const tagpackWhole = 1 << 20

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
// Labels are yielded one per tag and category, in file order, even when
// two tags say the same (a pack listing an address twice): the store keeps
// one copy of identical labels and every label that differs (two entities
// for one address, say), so no tag is dropped here.
//
// Memory is bounded, whatever the file's size: a pack of up to 1 MiB is
// parsed as one YAML document; a larger one is streamed tag by tag, which
// needs the common layout of TagPacks: a block mapping at column 0 whose
// header fields come before a block list of tags ("tags:" then "- address:
// ..." items), without anchors shared between tags. A line may be at most
// MaxRecord bytes, a tag MaxTag bytes, the header MaxTagPackHeader bytes;
// every field a label is made of at most MaxField bytes (the source URL
// MaxURL).
//
// Stream contract and errors as for Read: broken YAML, a document that is
// not a mapping, a missing or non-list tags, a line or header over its limit
// end the import; a tag that is not a mapping, has no address, an unusable
// currency, an address invalid for its chain, an unknown confidence id or a
// field over its limit is a row-level ParseError naming its line and key.
func ReadTagPack(r io.Reader, opts Options) iter.Seq2[heistgraph.Label, error] {
	return readTagPack(r, opts, tagpackWhole)
}

// readTagPack is ReadTagPack, parsing a pack of up to whole bytes as one
// document (tests stream small packs with whole = 0).
func readTagPack(r io.Reader, opts Options, whole int) iter.Seq2[heistgraph.Label, error] {
	return func(yield func(heistgraph.Label, error) bool) {
		in, err := open(r, opts)
		if err != nil {
			yield(heistgraph.Label{}, err)
			return
		}
		br := bufio.NewReaderSize(in, MaxRecord+1)
		// Read up to tagpackWhole bytes; a pack that ends there is parsed
		// whole.
		var head bytes.Buffer
		for head.Len() <= whole {
			line, err := readLine(br, opts.Name, 0)
			head.Write(line)
			if errors.Is(err, io.EOF) {
				readWholeTagPack(head.Bytes(), opts, yield)
				return
			}
			if err != nil {
				yield(heistgraph.Label{}, err)
				return
			}
		}
		ts := tagStream{opts: opts, br: bufio.NewReaderSize(io.MultiReader(&head, br), MaxRecord+1),
			header: map[string]*yaml.Node{}, itemIndent: -1}
		ts.run(yield)
	}
}

// readLine reads one line, its newline included. A line longer than
// MaxRecord bytes is a ParseError at line no (0: unknown). At the end of the
// input it returns the last bytes and io.EOF.
func readLine(br *bufio.Reader, file string, no int) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, parseErr(file, no, "", "line longer than %d bytes", MaxRecord)
	case errors.Is(err, io.EOF):
		return line, io.EOF
	case err != nil:
		return nil, inputErr(file, no, err)
	}
	return line, nil
}

// readWholeTagPack yields the labels of a TagPack held in data.
func readWholeTagPack(data []byte, opts Options, yield func(heistgraph.Label, error) bool) {
	header, tags, err := decodeTagPack(data, opts.Name)
	if err != nil {
		yield(heistgraph.Label{}, err)
		return
	}
	tp := newTagPack(opts.Name, header)
	for i, t := range tags.Content {
		if !tp.emit(i, deref(t), &opts, yield) {
			return
		}
	}
}

// newTagPack returns what the tags of a pack with header share.
func newTagPack(file string, header map[string]*yaml.Node) *tagPack {
	title, _ := scalar(header["title"])
	if title == "" {
		title = strings.SplitN(baseName(file), ".", 2)[0]
	}
	if title == "" {
		title = "untitled"
	}
	for len(title) > MaxField { // the source must stay within MaxField: cut at a rune
		_, n := utf8.DecodeLastRuneInString(title)
		title = title[:len(title)-n]
	}
	return &tagPack{file: file, title: title, header: header}
}

// emit yields the labels of the i-th tag t, or reports its problem; false
// ends the import.
func (tp *tagPack) emit(i int, t *yaml.Node, opts *Options, yield func(heistgraph.Label, error) bool) bool {
	ls, perr := tp.tag(i, t)
	if perr != nil {
		return skip(opts, yield, perr)
	}
	for _, l := range ls {
		if !yield(l, nil) {
			return false
		}
	}
	return true
}

// tagInherited are the header fields a tag inherits (and title, which names
// the source): in a streamed pack they must come before the tags.
var tagInherited = map[string]bool{
	"title": true, "label": true, "source": true, "currency": true, "network": true, "confidence": true,
	"category": true, "abuse": true, "actor": true, "concepts": true, "is_cluster_definer": true, "is_public": true,
	"address": true,
}

// tagStream reads a TagPack line by line: header fields as they come, then
// each tag of the block list on its own, so memory holds one tag at a time.
type tagStream struct {
	opts   Options
	br     *bufio.Reader
	line   int // 1-based number of the line last read
	header map[string]*yaml.Node
	hdrLen int
	first  int // line of the first top-level key

	// The top-level entry being read (not tags).
	key      string
	keyLine  int
	keyChunk bytes.Buffer

	tp         *tagPack
	inTags     bool // reading the tags list
	tagsSeen   bool
	itemIndent int // indentation of the list's "-", -1 before the first
	item       bytes.Buffer
	itemLine   int
	itemLong   bool
	n          int // tags read

	// Tags read but not parsed yet: parsed together, as one YAML list,
	// since a parse has a cost of its own.
	batch     bytes.Buffer
	batchLine int
	batchN    int
}

// tagBatch is how many bytes of tags are parsed together.
const tagBatch = 64 << 10

// errStop ends run without a further error: the consumer stopped.
var errStop = errors.New("stop")

func (ts *tagStream) run(yield func(heistgraph.Label, error) bool) {
	if err := ts.lines(yield); err != nil && !errors.Is(err, errStop) {
		yield(heistgraph.Label{}, err)
	}
}

func (ts *tagStream) lines(yield func(heistgraph.Label, error) bool) error {
	file := ts.opts.Name
	for {
		raw, rerr := readLine(ts.br, file, ts.line+1)
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return rerr
		}
		if len(raw) > 0 {
			ts.line++
			if ts.line == 1 {
				raw = bytes.TrimPrefix(raw, []byte("\ufeff"))
			}
			end, err := ts.feed(raw, yield)
			if err != nil {
				return err
			}
			if end {
				rerr = io.EOF
			}
		}
		if rerr != nil { // io.EOF
			return ts.finish(yield)
		}
	}
}

// feed takes one line; end reports the end of the document (--- or ...).
func (ts *tagStream) feed(raw []byte, yield func(heistgraph.Label, error) bool) (end bool, err error) {
	file := ts.opts.Name
	text := bytes.TrimRight(raw, "\r\n")
	rest := bytes.TrimLeft(text, " ")
	indent := len(text) - len(rest)
	if len(rest) == 0 || rest[0] == '#' {
		if ts.inTags && ts.item.Len() > 0 {
			return false, ts.addItem(raw)
		}
		if ts.key != "" {
			return false, ts.addKey(raw)
		}
		return false, nil
	}
	if indent == 0 && (bytes.Equal(rest, []byte("---")) || bytes.HasPrefix(rest, []byte("--- ")) || bytes.Equal(rest, []byte("..."))) {
		if ts.first == 0 && rest[0] == '-' {
			return false, nil // the document's start
		}
		return true, nil
	}
	dash := rest[0] == '-' && (len(rest) == 1 || rest[1] == ' ')
	if ts.inTags {
		if ts.itemIndent < 0 && dash {
			ts.itemIndent = indent
		}
		switch {
		case ts.itemIndent >= 0 && indent == ts.itemIndent && dash:
			if err := ts.flushItem(yield); err != nil {
				return false, err
			}
			ts.itemLine, ts.itemLong = ts.line, false
			return false, ts.addItem(raw)
		case ts.itemIndent >= 0 && indent > ts.itemIndent:
			return false, ts.addItem(raw)
		case indent > 0:
			return false, parseErr(file, ts.line, "tags", "tags is not a list of tags (- address: ...)")
		}
		if err := ts.flushItem(yield); err != nil {
			return false, err
		}
		if err := ts.flushBatch(yield); err != nil {
			return false, err
		}
		ts.inTags = false
	}
	if indent > 0 {
		if ts.key == "" {
			return false, parseErr(file, ts.line, "", "a TagPack is a YAML mapping with a tags list (a pack over 1 MiB must start its keys at column 0)")
		}
		return false, ts.addKey(raw)
	}
	// A new top-level key.
	if err := ts.flushKey(); err != nil {
		return false, err
	}
	colon := bytes.IndexByte(rest, ':')
	if colon <= 0 || dash || rest[0] == '{' || rest[0] == '[' {
		return false, parseErr(file, ts.line, "", "a TagPack is a YAML mapping with a tags list (a pack over 1 MiB must be a block mapping)")
	}
	key := string(bytes.Trim(rest[:colon], `"' `))
	if ts.first == 0 {
		ts.first = ts.line
	}
	if key != "tags" {
		if ts.tagsSeen && tagInherited[key] {
			return false, parseErr(file, ts.line, clip(key), "header field %s comes after the tags list: in a TagPack over 1 MiB the header comes first", clip(key))
		}
		ts.key, ts.keyLine = key, ts.line
		return false, ts.addKey(raw)
	}
	if ts.tagsSeen {
		return false, parseErr(file, ts.line, "tags", "a second tags list")
	}
	ts.tagsSeen = true
	value := string(bytes.TrimSpace(rest[colon+1:]))
	if i := strings.Index(value, " #"); i >= 0 {
		value = strings.TrimSpace(value[:i])
	} else if strings.HasPrefix(value, "#") {
		value = ""
	}
	switch value {
	case "", "[]", "~", "null":
		ts.tp = newTagPack(file, ts.header)
		ts.inTags = value == ""
		return false, nil
	}
	return false, parseErr(file, ts.line, "tags", "tags is not a block list of tags (a pack over 1 MiB lists them as - address: ...)")
}

func (ts *tagStream) addKey(raw []byte) error {
	ts.hdrLen += len(raw)
	if ts.hdrLen > MaxTagPackHeader {
		return parseErr(ts.opts.Name, ts.keyLine, clip(ts.key), "TagPack header longer than %d bytes", MaxTagPackHeader)
	}
	ts.keyChunk.Write(raw)
	return nil
}

func (ts *tagStream) addItem(raw []byte) error {
	if ts.itemLong {
		return nil
	}
	if ts.item.Len()+len(raw) > MaxTag {
		ts.itemLong = true
		ts.item.Reset()
		ts.item.WriteString("-") // keeps the item pending
		return nil
	}
	ts.item.Write(raw)
	return nil
}

// flushKey parses the top-level entry read so far into the header.
func (ts *tagStream) flushKey() error {
	if ts.key == "" {
		return nil
	}
	defer func() { ts.key = ""; ts.keyChunk.Reset() }()
	var doc yaml.Node
	if err := yaml.Unmarshal(ts.keyChunk.Bytes(), &doc); err != nil {
		return yamlErr(ts.opts.Name, ts.keyLine-1, err)
	}
	shiftLines(&doc, ts.keyLine-1)
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return parseErr(ts.opts.Name, ts.keyLine, "", "a TagPack is a YAML mapping with a tags list")
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		ts.header[root.Content[i].Value] = deref(root.Content[i+1])
	}
	return nil
}

// flushItem ends the tag read so far: it joins the batch, or is reported
// when it is over MaxTag bytes.
func (ts *tagStream) flushItem(yield func(heistgraph.Label, error) bool) error {
	if ts.item.Len() == 0 {
		return nil
	}
	defer ts.item.Reset()
	if ts.itemLong {
		if err := ts.flushBatch(yield); err != nil {
			return err
		}
		i := ts.n
		ts.n++
		if !skip(&ts.opts, yield, parseErr(ts.opts.Name, ts.itemLine, fmt.Sprintf("tags[%d]", i), "tag longer than %d bytes", MaxTag)) {
			return errStop
		}
		return nil
	}
	if ts.batchN == 0 {
		ts.batchLine = ts.itemLine
	}
	ts.batch.Write(ts.item.Bytes())
	ts.batchN++
	if ts.batch.Len() >= tagBatch {
		return ts.flushBatch(yield)
	}
	return nil
}

// flushBatch parses the batched tags and yields their labels.
func (ts *tagStream) flushBatch(yield func(heistgraph.Label, error) bool) error {
	if ts.batchN == 0 {
		return nil
	}
	defer func() { ts.batch.Reset(); ts.batchN = 0 }()
	var doc yaml.Node
	if err := yaml.Unmarshal(ts.batch.Bytes(), &doc); err != nil {
		return yamlErr(ts.opts.Name, ts.batchLine-1, err)
	}
	shiftLines(&doc, ts.batchLine-1)
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.SequenceNode || len(root.Content) != ts.batchN {
		return parseErr(ts.opts.Name, ts.batchLine, "tags", "tags is not a list of tags (- address: ...)")
	}
	for _, t := range root.Content {
		i := ts.n
		ts.n++
		if !ts.tp.emit(i, deref(t), &ts.opts, yield) {
			return errStop
		}
	}
	return nil
}

// finish ends the document.
func (ts *tagStream) finish(yield func(heistgraph.Label, error) bool) error {
	if ts.inTags {
		if err := ts.flushItem(yield); err != nil {
			return err
		}
		if err := ts.flushBatch(yield); err != nil {
			return err
		}
	}
	if err := ts.flushKey(); err != nil {
		return err
	}
	if !ts.tagsSeen {
		return parseErr(ts.opts.Name, ts.first, "tags", "TagPack has no tags list")
	}
	return nil
}

// shiftLines adds off to the line of n and every node under it.
func shiftLines(n *yaml.Node, off int) {
	if n == nil {
		return
	}
	n.Line += off
	for _, c := range n.Content {
		shiftLines(c, off)
	}
}

// yamlErr turns a YAML syntax error of a chunk that starts after line off
// into a ParseError at its line in the file.
func yamlErr(file string, off int, err error) *ParseError {
	line := 0
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		line += off
	}
	msg := yamlLineRE.ReplaceAllString(strings.TrimPrefix(err.Error(), "yaml: "), "line "+strconv.Itoa(line))
	return parseErr(file, line, "", "%s", clip2(msg))
}

// clip2 bounds a message built by a decoder, which may quote input.
func clip2(s string) string {
	if len(s) <= 200 {
		return s
	}
	return s[:200] + "..."
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
		return nil, nil, yamlErr(file, 0, err)
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
	for _, f := range []struct {
		key, v string
		limit  int
	}{{"address", addr, MaxField}, {"currency", asset, MaxField}, {"label", label, MaxField}, {"actor", actor, MaxField},
		{"source", src, MaxURL}, {"confidence", confID, MaxField}, {"category", category, MaxField}, {"abuse", abuse, MaxField},
		{"is_public", public, MaxField}, {"is_cluster_definer", definer, MaxField}} {
		if len(f.v) > f.limit {
			return nil, tooLong(tp.file, line(f.key), f.key, len(f.v), f.limit)
		}
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
					if len(s) > MaxField {
						return nil, tooLong(tp.file, line("concepts"), "concepts", len(s), MaxField)
					}
					concepts = append(concepts, strings.ToLower(s))
				}
			}
		case yaml.ScalarNode:
			if s, _ := scalar(n); s != "" {
				if len(s) > MaxField {
					return nil, tooLong(tp.file, line("concepts"), "concepts", len(s), MaxField)
				}
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
