package payroll

import (
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// JaroWinkler returns the Jaro-Winkler similarity of a and b in [0, 1]
// (Winkler 1990): the Jaro similarity over runes, raised for a common
// prefix of up to 4 runes by 0.1 per rune. Two empty strings are 1; one
// empty string is 0.
func JaroWinkler(a, b string) float64 {
	ra, rb := []rune(a), []rune(b)
	j := jaro(ra, rb)
	p := 0
	for p < 4 && p < len(ra) && p < len(rb) && ra[p] == rb[p] {
		p++
	}
	return j + float64(p)*0.1*(1-j)
}

// jaro is the Jaro similarity of a and b.
func jaro(a, b []rune) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	window := max(len(a), len(b))/2 - 1
	window = max(window, 0)
	ma, mb := make([]bool, len(a)), make([]bool, len(b))
	m := 0
	for i := range a {
		lo, hi := max(0, i-window), min(len(b), i+window+1)
		for k := lo; k < hi; k++ {
			if !mb[k] && a[i] == b[k] {
				ma[i], mb[k] = true, true
				m++
				break
			}
		}
	}
	if m == 0 {
		return 0
	}
	t, k := 0, 0
	for i := range a {
		if !ma[i] {
			continue
		}
		for !mb[k] {
			k++
		}
		if a[i] != b[k] {
			t++
		}
		k++
	}
	fm := float64(m)
	return (fm/float64(len(a)) + fm/float64(len(b)) + (fm-float64(t/2))/fm) / 3
}

// NameTokens returns a name's normalised tokens: letters and digits
// only, lower-cased, accents removed (NFKD without combining marks), split
// at everything else ("KIM, Sang-Man" → kim sang man).
func NameTokens(name string) []string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(name) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteByte(' ')
		}
	}
	return strings.Fields(b.String())
}

// nameKey is a name's tokens joined without spaces, in their order: the
// form that lets "Sangman" meet "Sang Man".
func nameKey(tokens []string) string { return strings.Join(tokens, "") }

// tokenScore pairs the tokens of a and b, in any order, each pair the most
// similar left (Jaro-Winkler, greedy), and returns the pairs' similarity
// weighted by their length over the length of all tokens: unpaired
// tokens count 0, so "Kim Sang Man" against "Kim Nam Ung" stays low
// although both begin with "Kim".
func tokenScore(a, b []string) float64 {
	type pair struct {
		i, j int
		s    float64
	}
	ps := make([]pair, 0, len(a)*len(b))
	total := 0
	for _, t := range a {
		total += len(t)
	}
	for _, t := range b {
		total += len(t)
	}
	for i, x := range a {
		for j, y := range b {
			ps = append(ps, pair{i, j, JaroWinkler(x, y)})
		}
	}
	slices.SortStableFunc(ps, func(x, y pair) int {
		switch {
		case x.s > y.s:
			return -1
		case x.s < y.s:
			return 1
		}
		return 0
	})
	usedA, usedB := make([]bool, len(a)), make([]bool, len(b))
	var sum float64
	for _, p := range ps {
		if usedA[p.i] || usedB[p.j] {
			continue
		}
		usedA[p.i], usedB[p.j] = true, true
		sum += p.s * float64(len(a[p.i])+len(b[p.j]))
	}
	if total == 0 {
		return 0
	}
	return sum / float64(total)
}

// tokenSimilarity is NameSimilarity on tokens.
func tokenSimilarity(a, b []string) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	return max(tokenScore(a, b), JaroWinkler(nameKey(a), nameKey(b)))
}

// NameSimilarity returns how alike two names are, whatever the order of
// their tokens (design.md: Jaro-Winkler on normalised name tokens in any
// order): the tokens of each (NameTokens) are paired, each with its most
// similar counterpart, and the pairs' Jaro-Winkler similarity is weighted
// by length; or, when higher, the Jaro-Winkler similarity of the tokens
// written together in their order (for "Sangman" against "Sang Man").
// "Sang Man Kim" and "KIM, Sang Man" are 1; names without tokens are 0.
func NameSimilarity(a, b string) float64 {
	return tokenSimilarity(NameTokens(a), NameTokens(b))
}
