// Package jsonindent indents the compact JSON that encoding/json writes,
// byte for byte as json.Indent does, several times faster: it trusts its
// input to be what json.Marshal or json.Encoder produced (valid, with no
// white space outside strings) instead of scanning it with json's state
// machine, which is most of the cost of printing a large answer with
// json.Encoder.SetIndent.
package jsonindent

import (
	"bytes"
	"io"
)

// Append appends to dst the indented form of src, which must be JSON as
// encoding/json writes it (compact: no space outside strings), and
// returns the extended buffer. Each element of an object or array begins
// on a new line beginning with prefix followed by one or more copies of
// indent, a colon is followed by one space, empty objects and arrays stay
// "{}" and "[]", and trailing newlines of src are kept: what json.Indent
// (and json.Encoder with SetIndent) writes for the same src.
func Append(dst, src []byte, prefix, indent string) []byte {
	dst, _ = run(dst, src, prefix, indent, nil)
	return dst
}

// Write writes the indented form of src (as Append) to w, through a
// buffer of 64 KiB rather than the whole answer at once.
func Write(w io.Writer, src []byte, prefix, indent string) error {
	buf := make([]byte, 0, flushAt+4096)
	buf, err := run(buf, src, prefix, indent, w)
	if err != nil {
		return err
	}
	_, err = w.Write(buf)
	return err
}

// flushAt is the size at which run writes its buffer out to w.
const flushAt = 64 << 10

// run is Append, writing dst out to w (when not nil) and reusing it
// whenever it holds flushAt bytes.
func run(dst, src []byte, prefix, indent string, w io.Writer) ([]byte, error) {
	depth := 0
	open := false                         // the last byte written opened an object or array
	nl := append([]byte{'\n'}, prefix...) // a newline and the indent of depth, grown as needed
	newline := func() {
		n := 1 + len(prefix) + max(depth, 0)*len(indent)
		for len(nl) < n {
			nl = append(nl, indent...)
		}
		dst = append(dst, nl[:n]...)
	}
	for i := 0; i < len(src); {
		if w != nil && len(dst) >= flushAt {
			if _, err := w.Write(dst); err != nil {
				return dst, err
			}
			dst = dst[:0]
		}
		c := src[i]
		if open && c != '}' && c != ']' {
			open = false
			newline()
		}
		switch c {
		case '"':
			j := stringEnd(src, i+1)
			dst = append(dst, src[i:j]...)
			i = j
			continue
		case '{', '[':
			dst = append(dst, c)
			depth++
			open = true
		case '}', ']':
			depth--
			if open {
				open = false
			} else {
				newline()
			}
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			newline()
		case ':':
			dst = append(dst, ':', ' ')
		default:
			// A number, true, false, null or white space after the
			// value: copied up to the next structural byte.
			j := i + 1
			for j < len(src) && !structural(src[j]) {
				j++
			}
			dst = append(dst, src[i:j]...)
			i = j
			continue
		}
		i++
	}
	return dst, nil
}

// stringEnd returns the index just past the quote that closes the string
// whose contents begin at src[i] (len(src) when it is not closed): the
// first quote not escaped by an odd run of backslashes.
func stringEnd(src []byte, i int) int {
	for {
		q := bytes.IndexByte(src[i:], '"')
		if q < 0 {
			return len(src)
		}
		q += i
		n := 0
		for k := q - 1; k >= i && src[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return q + 1
		}
		i = q + 1
	}
}

// structural reports whether c ends a run of literal bytes.
func structural(c byte) bool {
	switch c {
	case '"', '{', '[', '}', ']', ',', ':':
		return true
	}
	return false
}
