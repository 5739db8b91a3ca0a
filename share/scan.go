package share

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/heistgraph/heistgraph"
)

// Limits bound what Read accepts, so a hostile bundle is refused with a
// clear error instead of exhausting memory. Zero fields take the defaults.
type Limits struct {
	// MaxObjects is the most objects a bundle may hold (default 1,000,000).
	MaxObjects int
	// MaxObjectBytes is the largest single object, in bytes (default 1 MiB).
	MaxObjectBytes int
	// MaxDepth is the deepest nesting of arrays and objects inside an
	// object (default 32).
	MaxDepth int
	// MaxKept bounds the bytes of the objects Read keeps until the end of
	// the bundle (indicators, observables, incidents, actors,
	// relationships; default 256 MiB): what a bundle costs in memory.
	MaxKept int
}

// DefaultLimits returns the default Limits.
func DefaultLimits() Limits {
	return Limits{MaxObjects: 1_000_000, MaxObjectBytes: 1 << 20, MaxDepth: 32, MaxKept: 256 << 20}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxObjects <= 0 {
		l.MaxObjects = d.MaxObjects
	}
	if l.MaxObjectBytes <= 0 {
		l.MaxObjectBytes = d.MaxObjectBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxKept <= 0 {
		l.MaxKept = d.MaxKept
	}
	return l
}

// BundleError is a bundle Read refuses: where (the byte offset, and the
// index of the object when inside the objects array; -1 outside it) and
// why. It wraps heistgraph.ErrInvalid.
type BundleError struct {
	Offset int64
	Object int
	Err    error
}

func (e *BundleError) Error() string {
	if e.Object >= 0 {
		return fmt.Sprintf("byte %d, object %d: %v", e.Offset, e.Object, e.Err)
	}
	return fmt.Sprintf("byte %d: %v", e.Offset, e.Err)
}

// Unwrap returns the cause.
func (e *BundleError) Unwrap() error { return e.Err }

// Is makes every BundleError match heistgraph.ErrInvalid.
func (e *BundleError) Is(target error) bool { return target == heistgraph.ErrInvalid }

// scanner cuts a bundle's objects out of a stream one at a time, holding
// at most one object (MaxObjectBytes) in memory.
type scanner struct {
	r      *bufio.Reader
	off    int64
	lim    Limits
	buf    []byte
	object int // index of the object being read; -1 outside the array
}

func (s *scanner) fail(format string, args ...any) error {
	return &BundleError{Offset: s.off, Object: s.object, Err: fmt.Errorf(format, args...)}
}

func (s *scanner) readByte() (byte, error) {
	c, err := s.r.ReadByte()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, s.fail("unexpected end of the bundle")
		}
		return 0, &BundleError{Offset: s.off, Object: s.object, Err: err}
	}
	s.off++
	return c, nil
}

func (s *scanner) skipSpace() (byte, error) {
	for {
		c, err := s.readByte()
		if err != nil {
			return 0, err
		}
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return c, nil
		}
	}
}

// value reads one JSON value whose first byte is first into s.buf,
// checking size and depth (it does not check the JSON grammar fully:
// encoding/json does that on the bytes it returns).
func (s *scanner) value(first byte) ([]byte, error) {
	s.buf = append(s.buf[:0], first)
	depth := 0
	inString := false
	switch first {
	case '{', '[':
		depth = 1
	case '"':
		inString = true
	default:
		// A scalar: read until a delimiter.
		for {
			c, err := s.r.ReadByte()
			if err != nil {
				return s.buf, nil
			}
			if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\r' || c == '\t' {
				_ = s.r.UnreadByte()
				return s.buf, nil
			}
			s.off++
			if s.buf = append(s.buf, c); len(s.buf) > 64 {
				return nil, s.fail("a scalar longer than 64 bytes")
			}
		}
	}
	escaped := false
	for depth > 0 || inString {
		c, err := s.readByte()
		if err != nil {
			return nil, err
		}
		if s.buf = append(s.buf, c); len(s.buf) > s.lim.MaxObjectBytes {
			return nil, s.fail("value larger than %d bytes (a huge string or object): %w", s.lim.MaxObjectBytes, heistgraph.ErrInvalid)
		}
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			if depth++; depth > s.lim.MaxDepth {
				return nil, s.fail("nested deeper than %d levels: %w", s.lim.MaxDepth, heistgraph.ErrInvalid)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return s.buf, nil
}

// bundle reads a bundle {"type": "bundle", "objects": [...], ...}, calling
// obj with each object's bytes (valid until the next call) and index, and
// top with each other top-level member.
func (s *scanner) bundle(obj func(i int, raw []byte) error, top func(key string, raw []byte) error) error {
	s.object = -1
	c, err := s.skipSpace()
	if err != nil {
		return err
	}
	if c != '{' {
		return s.fail("not a STIX bundle: want a JSON object, found %q", c)
	}
	for {
		c, err := s.skipSpace()
		if err != nil {
			return err
		}
		if c == '}' {
			break
		}
		if c == ',' {
			if c, err = s.skipSpace(); err != nil {
				return err
			}
		}
		if c != '"' {
			return s.fail("want a member name, found %q", c)
		}
		kb, err := s.value('"')
		if err != nil {
			return err
		}
		key := string(kb[1 : len(kb)-1])
		if c, err = s.skipSpace(); err != nil {
			return err
		}
		if c != ':' {
			return s.fail("want ':' after %q, found %q", key, c)
		}
		if c, err = s.skipSpace(); err != nil {
			return err
		}
		if key != "objects" {
			v, err := s.value(c)
			if err != nil {
				return err
			}
			if err := top(key, v); err != nil {
				return err
			}
			continue
		}
		if c != '[' {
			return s.fail("objects: want an array, found %q", c)
		}
		for i := 0; ; i++ {
			s.object = i
			c, err := s.skipSpace()
			if err != nil {
				return err
			}
			if c == ']' {
				break
			}
			if i > 0 {
				if c != ',' {
					return s.fail("objects: want ',' or ']', found %q", c)
				}
				if c, err = s.skipSpace(); err != nil {
					return err
				}
			}
			if c != '{' {
				return s.fail("objects: want a JSON object, found %q", c)
			}
			if i >= s.lim.MaxObjects {
				return s.fail("more than %d objects: %w", s.lim.MaxObjects, heistgraph.ErrInvalid)
			}
			v, err := s.value(c)
			if err != nil {
				return err
			}
			if err := obj(i, v); err != nil {
				return err
			}
		}
		s.object = -1
	}
	return nil
}
