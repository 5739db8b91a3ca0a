package store

import (
	"context"
	"fmt"
	"iter"
	"strings"

	"github.com/heistgraph/heistgraph"
)

// Sharing stores what heistgraph exchanges with partners over TAXII 2.1:
// the partner feeds it pulls (Feed), the STIX objects partners post to its
// writable collections (SharedObject) and the status resources of those
// posts. Partner labels themselves are ordinary labels (Labels), kept in
// one label set per feed so that a pull replaces them as a whole.
//
// Every write is durable before it returns. All methods are safe for
// concurrent use; returned values are the caller's. A feed whose id fails
// ValidateFeedID, or without URL or collection, wraps
// heistgraph.ErrInvalid; an unknown id wraps heistgraph.ErrNotFound. When
// ctx is cancelled a scan ends with an error wrapping ctx.Err().
type Sharing interface {
	// PutFeed stores f, replacing the feed with its id.
	PutFeed(ctx context.Context, f Feed) error
	// Feed returns one feed by id.
	Feed(ctx context.Context, id string) (Feed, error)
	// FeedList yields every feed in id order. It streams.
	FeedList(ctx context.Context) iter.Seq2[Feed, error]
	// DeleteFeed removes a feed (its labels are the caller's to remove).
	DeleteFeed(ctx context.Context, id string) error
	// PutSharedObjects stores objects in collection in one atomic batch;
	// an object with the id and version of a stored one replaces it. An
	// empty collection, id or raw body wraps heistgraph.ErrInvalid.
	PutSharedObjects(ctx context.Context, collection string, objs []SharedObject) error
	// SharedObjects yields the objects of collection in (id, version)
	// order. It streams.
	SharedObjects(ctx context.Context, collection string) iter.Seq2[SharedObject, error]
	// DeleteSharedObjects removes the versions vs of collection's objects
	// in one atomic batch (a TAXII DELETE, a feed's local copy); a version
	// not stored is no error.
	DeleteSharedObjects(ctx context.Context, collection string, vs []SharedVersion) error
	// PutShareStatus stores the status resource (JSON) of a post under id,
	// replacing any; ShareStatus returns it.
	PutShareStatus(ctx context.Context, id string, status []byte) error
	ShareStatus(ctx context.Context, id string) ([]byte, error)
}

// Feed is a partner's TAXII 2.1 collection that heistgraph pulls.
type Feed struct {
	ID         string // lower-case letters, digits and '-' (ValidateFeedID)
	URL        string // the partner's API root (or collection) URL
	Collection string // the collection id
	Key        string // the Bearer key the partner gave us
	// AsWatches makes each partner incident a watch.
	AsWatches bool
	// TLPMax is the most restricted TLP level kept from this feed; objects
	// marked above it are dropped.
	TLPMax  string
	Created int64 // Unix seconds
	// The last pull: when it ended (Unix seconds; 0 never), what it kept,
	// and its error ("" when it succeeded).
	LastPull  int64
	Objects   int
	Labels    int
	Watches   int
	LastError string
	// AddedLast is the last X-TAXII-Date-Added-Last the partner's server
	// answered (its own timestamp text, "" before the first pull): the
	// next pull asks for the objects added after it.
	AddedLast string
}

// SharedObject is one version of one STIX object a partner posted.
type SharedObject struct {
	ID        string // STIX id
	Version   int64  // the object's modified time, Unix nanoseconds
	DateAdded int64  // when it was posted, Unix nanoseconds
	KeyID     string // the key that posted it
	Raw       []byte // the object's JSON, byte for byte
}

// SharedVersion names one version of one shared object.
type SharedVersion struct {
	ID      string // STIX id
	Version int64  // Unix nanoseconds, as SharedObject.Version
}

// FeedCollection is the collection holding the local copy of feed id's
// objects (what its pulls fetched).
func FeedCollection(id string) string { return "feed:" + id }

// CheckFeed checks what PutFeed requires of f: a valid id, a URL and a
// collection. It wraps heistgraph.ErrInvalid.
func CheckFeed(f Feed) error {
	if err := ValidateFeedID(f.ID); err != nil {
		return err
	}
	if f.URL == "" || f.Collection == "" {
		return fmt.Errorf("feed %s: URL and collection are required: %w", f.ID, heistgraph.ErrInvalid)
	}
	return nil
}

// ValidateShareName checks a collection, object or status id as the
// Sharing role keeps it: 1 to 256 bytes without NUL. what names it in the
// error, which wraps heistgraph.ErrInvalid.
func ValidateShareName(what, s string) error {
	if s == "" || len(s) > 256 {
		return fmt.Errorf("%s %.70q: want 1 to 256 bytes: %w", what, s, heistgraph.ErrInvalid)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("%s %.70q: holds a NUL byte: %w", what, s, heistgraph.ErrInvalid)
	}
	return nil
}

// MaxFeedID is the longest feed id, in bytes.
const MaxFeedID = 64

// ValidateFeedID checks a feed id: 1 to MaxFeedID lower-case letters,
// digits and '-'. It wraps heistgraph.ErrInvalid.
func ValidateFeedID(id string) error {
	ok := id != "" && len(id) <= MaxFeedID
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("feed id %.70q: want 1 to %d lower-case letters, digits and '-': %w", id, MaxFeedID, heistgraph.ErrInvalid)
	}
	return nil
}
