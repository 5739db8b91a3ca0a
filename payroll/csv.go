package payroll

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/heistgraph/heistgraph"
)

// csvHeader is the input's header row (design.md).
var csvHeader = []string{"id", "name", "email", "chain", "address"}

// ReadCSV reads a payroll in CSV: the header `id,name,email,chain,address`,
// then one wallet a row, several rows per payee allowed (a payee is its
// id; its name and e-mail are those of its first row, and a later row may
// leave them empty or repeat them). A row with chain and address empty is a
// payee without wallets (screened on identity alone). Payees keep the order
// of their first rows. name names the file in errors. Errors wrap
// heistgraph.ErrInvalid: a *FieldError with the line and field, a
// *LimitError past MaxPayees (or a payee's MaxWallets).
func ReadCSV(r io.Reader, name string) (*Request, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	ferr := func(line int, field, format string, a ...any) error {
		return &FieldError{File: name, Line: line, Field: field, Msg: fmt.Sprintf(format, a...)}
	}
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, ferr(1, "id", "empty file: want the header %s", strings.Join(csvHeader, ","))
	}
	if err != nil {
		return nil, csvErr(name, err)
	}
	if len(head) > 0 {
		head[0] = strings.TrimPrefix(head[0], "\ufeff") // a spreadsheet's byte order mark
	}
	if len(head) != len(csvHeader) {
		return nil, ferr(1, "header", "%d columns, want %s", len(head), strings.Join(csvHeader, ","))
	}
	for i, h := range head {
		if strings.ToLower(strings.TrimSpace(h)) != csvHeader[i] {
			return nil, ferr(1, csvHeader[i], "header column %d is %q, want %q", i+1, short(h), csvHeader[i])
		}
	}
	req := &Request{}
	index := map[string]int{}
	var lines []int // the line of each payee's first row
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvErr(name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		if len(rec) != len(csvHeader) {
			return nil, ferr(line, "row", "%d fields, want %d (%s)", len(rec), len(csvHeader), strings.Join(csvHeader, ","))
		}
		id, nm, email := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1]), strings.TrimSpace(rec[2])
		chain, addr := strings.TrimSpace(rec[3]), strings.TrimSpace(rec[4])
		if id == "" {
			return nil, ferr(line, "id", "missing")
		}
		i, ok := index[id]
		if !ok {
			if len(req.Payees) == MaxPayees {
				return nil, &LimitError{What: "payees", Got: len(req.Payees) + 1, Limit: MaxPayees}
			}
			i = len(req.Payees)
			index[id] = i
			lines = append(lines, line)
			req.Payees = append(req.Payees, Payee{ID: id, Name: nm, Email: email})
		}
		p := &req.Payees[i]
		if nm != "" && nm != p.Name {
			return nil, ferr(line, "name", "%q differs from %q on payee %s's first row", short(nm), short(p.Name), short(id))
		}
		if email != "" && !strings.EqualFold(email, p.Email) {
			return nil, ferr(line, "email", "%q differs from %q on payee %s's first row", short(email), short(p.Email), short(id))
		}
		switch {
		case chain == "" && addr == "":
			continue
		case chain == "":
			return nil, ferr(line, "chain", "missing (an address needs its chain)")
		case addr == "":
			return nil, ferr(line, "address", "missing (a chain needs an address)")
		}
		if len(p.Wallets) == MaxWallets {
			return nil, &LimitError{What: "wallets of payee " + short(id), Got: MaxWallets + 1, Limit: MaxWallets}
		}
		p.Wallets = append(p.Wallets, Wallet{Chain: heistgraph.Chain(chain), Address: addr})
		// Check the row now, so that its error names its line.
		one := Payee{ID: p.ID, Name: p.Name, Email: p.Email, Wallets: p.Wallets[len(p.Wallets)-1:]}
		if err := one.check(""); err != nil {
			var fe *FieldError
			if errors.As(err, &fe) {
				return nil, ferr(line, csvField(fe.Field), "%s", fe.Msg)
			}
			return nil, err
		}
		p.Wallets[len(p.Wallets)-1] = one.Wallets[0]
	}
	if len(req.Payees) == 0 {
		return nil, ferr(2, "id", "no payees after the header")
	}
	for i := range req.Payees {
		// Wallets are normalised already: this checks the identity.
		if err := req.Payees[i].check(""); err != nil {
			var fe *FieldError
			if errors.As(err, &fe) {
				return nil, ferr(lines[i], csvField(fe.Field), "%s", fe.Msg)
			}
			return nil, err
		}
	}
	return req, nil
}

// csvField maps a payee's JSON field to its CSV column.
func csvField(f string) string {
	switch {
	case strings.HasSuffix(f, ".chain"):
		return "chain"
	case strings.HasSuffix(f, ".address"):
		return "address"
	}
	return f
}

// csvErr turns an encoding/csv error into a *FieldError with its line.
func csvErr(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		col := "row"
		if pe.Column > 0 {
			col = fmt.Sprintf("column %d", pe.Column)
		}
		return &FieldError{File: name, Line: pe.Line, Field: col, Msg: pe.Err.Error()}
	}
	return fmt.Errorf("read %s: %w", name, err)
}
