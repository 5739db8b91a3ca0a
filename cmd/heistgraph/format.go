package main

import (
	"fmt"
	"time"
)

// btc formats satoshis as BTC with eight decimals, exactly (no float).
func btc(sat int64) string {
	sign := ""
	if sat < 0 {
		sign, sat = "-", -sat
	}
	return fmt.Sprintf("%s%d.%08d BTC", sign, sat/100_000_000, sat%100_000_000)
}

// unixUTC formats Unix seconds as RFC 3339 in UTC.
func unixUTC(t int64) string { return time.Unix(t, 0).UTC().Format(time.RFC3339) }
