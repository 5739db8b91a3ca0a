package postgres

import (
	"strings"
)

// redacted is an error whose text has the password removed; it still
// wraps the original for errors.Is.
type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// redact returns err with every occurrence of password in its text
// replaced, so that no error the store returns prints it.
func redact(err error, password string) error {
	if err == nil || password == "" || !strings.Contains(err.Error(), password) {
		return err
	}
	return &redacted{msg: strings.ReplaceAll(err.Error(), password, "xxxxx"), err: err}
}
