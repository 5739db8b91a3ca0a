package payroll

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// CSVOutHeader is the header of WriteCSV's output.
var CSVOutHeader = []string{"id", "name", "email", "risk", "flag", "level", "detail", "other_payees", "evidence"}

// WriteCSV writes a as CSV for a spreadsheet: the header CSVOutHeader,
// then one row per flag of each payee in order (a payee without flags has
// one row with the flag columns empty); evidence is the flag's evidence as
// compact JSON. Cells a spreadsheet would run as formulas (starting with
// = + - @) are prefixed with a quote (OWASP CSV injection).
func WriteCSV(w io.Writer, a *Answer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVOutHeader); err != nil {
		return err
	}
	for _, p := range a.Payees {
		base := []string{cell(p.ID), cell(p.Name), cell(p.Email), string(p.Risk)}
		if len(p.Flags) == 0 {
			if err := cw.Write(append(base, "", "", "", "", "")); err != nil {
				return err
			}
			continue
		}
		for _, f := range p.Flags {
			ev, err := json.Marshal(f.Evidence)
			if err != nil {
				return fmt.Errorf("payroll: evidence of %s: %w", p.ID, err)
			}
			others := make([]string, len(f.Evidence.Payees))
			for i, o := range f.Evidence.Payees {
				others[i] = cell(o)
			}
			row := append(base[:4:4], f.Kind, string(f.Level), cell(f.Detail), strings.Join(others, ";"), string(ev))
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// cell defuses a value a spreadsheet would evaluate.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
