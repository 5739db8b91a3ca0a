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

// nameKey is a name's tokens sorted and joined by one space: the form in
// which names compare "in any order".
func nameKey(tokens []string) string {
	s := slices.Clone(tokens)
	slices.Sort(s)
	return strings.Join(s, " ")
}

// NameSimilarity returns how alike two names are, whatever the order of
// their tokens: the Jaro-Winkler similarity of their normalised tokens,
// sorted and joined ("Sang Man Kim" and "KIM, Sang Man" are 1). Names
// without tokens are 0.
func NameSimilarity(a, b string) float64 {
	ta, tb := NameTokens(a), NameTokens(b)
	if len(ta) == 0 || len(tb) == 0 {
		return 0
	}
	return JaroWinkler(nameKey(ta), nameKey(tb))
}
