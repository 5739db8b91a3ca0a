package app

import (
	"errors"
	"reflect"
	"testing"

	"github.com/heistgraph/heistgraph"
	"github.com/heistgraph/heistgraph/trace"
)

func TestGroupSinksAndByEntity(t *testing.T) {
	t.Parallel()
	sinks := []trace.Sink{
		{Kind: trace.SinkUnspent, AmountSat: 5},
		{Kind: trace.SinkEntity, Entity: "B", Category: "exchange", AmountSat: 10},
		{Kind: trace.SinkEntity, Entity: "A", Category: "mixer", AmountSat: 10},
		{Kind: trace.SinkUnspent, AmountSat: 7},
		{Kind: trace.SinkThreshold, Entity: "B", Category: "exchange", AmountSat: 3},
		{Kind: trace.SinkEntity, Entity: "C", Category: "exchange", AmountSat: 30},
	}
	wantGroups := []SinkGroup{
		{Kind: trace.SinkEntity, Entity: "C", Category: "exchange", AmountSat: 30, Sinks: 1},
		{Kind: trace.SinkEntity, Entity: "A", Category: "mixer", AmountSat: 10, Sinks: 1},
		{Kind: trace.SinkEntity, Entity: "B", Category: "exchange", AmountSat: 10, Sinks: 1},
		{Kind: trace.SinkUnspent, AmountSat: 12, Sinks: 2},
		{Kind: trace.SinkThreshold, Entity: "B", Category: "exchange", AmountSat: 3, Sinks: 1},
	}
	if got := GroupSinks(trace.NewSinkList(sinks)); !reflect.DeepEqual(got, wantGroups) {
		t.Errorf("GroupSinks:\n got %+v\nwant %+v", got, wantGroups)
	}
	wantEntities := []EntityTotal{{"C", "exchange", 30}, {"B", "exchange", 13}, {"A", "mixer", 10}}
	if got := ByEntity(trace.NewSinkList(sinks)); !reflect.DeepEqual(got, wantEntities) {
		t.Errorf("ByEntity:\n got %+v\nwant %+v", got, wantEntities)
	}
	if got := ByEntity(trace.SinkList{}); got == nil || len(got) != 0 {
		t.Errorf("ByEntity(nil) = %#v, want an empty (non-nil) list for JSON []", got)
	}
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		end  bool
		want int64
		bad  bool
	}{
		{"unix seconds", "1717113600", false, 1717113600, false},
		{"date as a lower bound", "2024-05-31", false, 1717113600, false},
		{"date as an upper bound", "2024-05-31", true, 1717113600 + 86399, false},
		{"datetime", "2024-05-31T12:00:00Z", true, 1717156800, false},
		{"negative", "-1", false, 0, true},
		{"garbage", "yesterday", false, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseTime(tc.in, tc.end)
			if tc.bad {
				if !errors.Is(err, heistgraph.ErrInvalid) {
					t.Fatalf("ParseTime(%q) = %d, %v; want an error wrapping ErrInvalid", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseTime(%q, %v) = %d, %v; want %d", tc.in, tc.end, got, err, tc.want)
			}
		})
	}
}

func TestAddressChecks(t *testing.T) {
	t.Parallel()
	both := []heistgraph.Chain{heistgraph.ChainBTC, heistgraph.ChainBTCRegtest}
	if cs, err := AddressChains(both, "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3"); err != nil || !reflect.DeepEqual(cs, []heistgraph.Chain{heistgraph.ChainBTC}) {
		t.Errorf("AddressChains(Hal's address) = %v, %v", cs, err)
	}
	if _, err := AddressChains(both, "1NotAnAddress"); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("AddressChains(malformed) = %v, want ErrInvalid", err)
	}
	if cs, err := LabelChains("", "0x47666Fab8bd0Ac7003bce3f5C3585383F09486E2"); err != nil || !reflect.DeepEqual(cs, []heistgraph.Chain{"eth"}) {
		t.Errorf("LabelChains(EVM address) = %v, %v", cs, err)
	}
	if _, err := LabelChains("btc!", "x"); !errors.Is(err, heistgraph.ErrInvalid) {
		t.Errorf("LabelChains(bad chain) = %v, want ErrInvalid", err)
	}
	if got := heistgraph.DisplayAddress("eth", "0x47666fab8bd0ac7003bce3f5c3585383f09486e2"); got != "0x47666Fab8bd0Ac7003bce3f5C3585383F09486E2" {
		t.Errorf("DisplayAddress = %s, want EIP-55 case", got)
	}
}
