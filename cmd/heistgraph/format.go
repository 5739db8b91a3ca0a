package main

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// btc formats satoshis as BTC for people: thousands separators, trailing
// zeros of the fraction trimmed ("4,502.9 BTC", "0.00096817 BTC",
// "50 BTC"), exactly (integer arithmetic, no float). JSON keeps satoshis.
func btc(sat int64) string { return coins(sat, 8) + " BTC" }

// coins formats an amount of base units with decimals decimals as coin
// units with thousands separators and the fraction's trailing zeros
// trimmed. It handles the whole int64 range.
func coins(base int64, decimals int) string {
	neg := base < 0
	// Work on the magnitude as uint64 so that math.MinInt64 is exact.
	u := uint64(base)
	if neg {
		u = -u
	}
	scale := uint64(1)
	for range decimals {
		scale *= 10
	}
	whole, frac := u/scale, u%scale
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	digits := strconv.FormatUint(whole, 10)
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	if frac != 0 {
		f := strconv.FormatUint(frac, 10)
		f = strings.Repeat("0", decimals-len(f)) + f
		b.WriteByte('.')
		b.WriteString(strings.TrimRight(f, "0"))
	}
	return b.String()
}

// btcCell formats satoshis for a table column headed "BTC": coin units
// as btc writes them, without the unit, padded on the right so that the
// decimal points of a column line up ("104.42360805", " 17.6201691 ",
// "  25        ").
func btcCell(sat int64) string {
	s := coins(sat, 8)
	frac := 0
	if i := strings.IndexByte(s, '.'); i >= 0 {
		frac = len(s) - i
	}
	return s + strings.Repeat(" ", 9-frac)
}

// esc makes a string from the store or from input files safe to print on
// a terminal: printable characters stay as they are, everything else
// (control codes such as ESC, bidirectional overrides, invalid UTF-8) is
// written the way strconv.Quote writes it (\x1b, \n, \u202e), without
// the quotes. Every text renderer passes names, categories, sources and
// other free text through it.
func esc(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(s[i])&0xf, 16))
		case unicode.IsPrint(r):
			b.WriteString(s[i : i+n])
		default:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	return b.String()
}

// unixUTC formats Unix seconds as RFC 3339 in UTC.
func unixUTC(t int64) string { return time.Unix(t, 0).UTC().Format(time.RFC3339) }
