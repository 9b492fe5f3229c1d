package telstate

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/sdpkit/sdpkit/telstate/backend"
	"github.com/sdpkit/sdpkit/telstate/rdb"
)

func (ts *TelescopeState) loader() (backend.Loader, error) {
	l, ok := ts.be.(backend.Loader)
	if !ok {
		return nil, fmt.Errorf("telstate: backend %T cannot load RDB files: %w", ts.be, errors.ErrUnsupported)
	}
	return l, nil
}

// LoadRDB loads an RDB snapshot from r straight into the backend, as
// katsdptelstate's load_from_file does: keys keep their full names (the
// view is ignored), existing keys are replaced, and no immutability check
// is made. It returns the number of keys loaded (strings, sorted sets and
// hashes; other Redis types are skipped). A malformed file gives an error
// matching ErrRdbParse; a backend that does not implement backend.Loader
// gives errors.ErrUnsupported. Keys loaded before an error stay loaded.
func (ts *TelescopeState) LoadRDB(ctx context.Context, r io.Reader) (int, error) {
	l, err := ts.loader()
	if err != nil {
		return 0, err
	}
	n, err := rdb.Load(ctx, r, l)
	if err != nil {
		return n, fmt.Errorf("telstate: load RDB: %w", err)
	}
	return n, nil
}

// LoadFile is LoadRDB on the named file. Errors opening it are returned
// as they are (wrapped, so errors.Is(err, fs.ErrNotExist) works).
func (ts *TelescopeState) LoadFile(ctx context.Context, path string) (int, error) {
	l, err := ts.loader()
	if err != nil {
		return 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("telstate: %w", err)
	}
	defer f.Close()
	n, err := rdb.Load(ctx, f, l)
	if err != nil {
		return n, fmt.Errorf("telstate: load RDB file %q: %w", path, err)
	}
	return n, nil
}

// WriteRDB writes keys (full names, ignoring the view), or every key in
// the store in sorted order when none are given, to w as an RDB file in
// the format of katsdptelstate's RDBWriter (readable by katsdptelstate and
// by Redis), and returns the number of keys written. The file is complete
// (terminated) even when an error is reported for missing keys: keys that
// do not exist are skipped, and the error, matching ErrKeyNotFound, lists
// them. Unlike Python the file carries a real CRC-64.
func (ts *TelescopeState) WriteRDB(ctx context.Context, w io.Writer, keys ...string) (written int, err error) {
	if len(keys) == 0 {
		if keys, err = ts.Root().Keys(ctx, "*"); err != nil {
			return 0, err
		}
	}
	rw := rdb.NewWriter(w)
	var missing []string
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return written, err
		}
		ok, err := ts.writeKey(ctx, rw, []byte(k))
		if err != nil {
			return written, err
		}
		if !ok {
			missing = append(missing, displayKey([]byte(k)))
			continue
		}
		written++
	}
	if err := rw.Close(); err != nil {
		return written, fmt.Errorf("telstate: write RDB: %w", err)
	}
	if len(missing) > 0 {
		return written, fmt.Errorf("%w: write RDB: %d of %d keys not saved: %s",
			ErrKeyNotFound, len(missing), len(keys), strings.Join(missing, ", "))
	}
	return written, nil
}

// writeKey writes one key, reporting false if it does not exist.
func (ts *TelescopeState) writeKey(ctx context.Context, rw *rdb.Writer, key []byte) (bool, error) {
	v, err := ts.be.Get(ctx, key)
	if errors.Is(err, ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, backendErr("write RDB", key, err)
	}
	switch v.Type {
	case backend.Immutable:
		err = rw.WriteString(key, v.Value)
	case backend.Mutable:
		var ss []backend.Sample
		ss, err = ts.be.GetRange(ctx, key, 0, math.Inf(1), false, false)
		if errors.Is(err, ErrKeyNotFound) {
			return false, nil // deleted meanwhile
		}
		if err != nil {
			return false, backendErr("write RDB", key, err)
		}
		members := make([][]byte, len(ss))
		for i, s := range ss {
			// Re-pack with the exact bits read (no Abs), so that any
			// member loaded from a file is written back unchanged.
			m := make([]byte, 8+len(s.Value))
			binary.BigEndian.PutUint64(m, math.Float64bits(s.Timestamp))
			copy(m[8:], s.Value)
			members[i] = m
		}
		err = rw.WriteZSet(key, members)
	case backend.Indexed:
		err = rw.WriteHash(key, v.Entries)
	default:
		return false, fmt.Errorf("telstate: write RDB %s: unknown key type %v", displayKey(key), v.Type)
	}
	if err != nil {
		return false, fmt.Errorf("telstate: write RDB %s: %w", displayKey(key), err)
	}
	return true, nil
}

// DumpFile is WriteRDB into a new file at path (truncating an existing
// one). As with katsdptelstate's RDBWriter, if no key was written the file
// is removed again; so is a file left incomplete by an error other than
// missing keys.
func (ts *TelescopeState) DumpFile(ctx context.Context, path string, keys ...string) (written int, err error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, fmt.Errorf("telstate: %w", err)
	}
	written, err = ts.WriteRDB(ctx, f, keys...)
	if cerr := f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("telstate: %w", cerr)
	}
	if written == 0 || (err != nil && !errors.Is(err, ErrKeyNotFound)) {
		if rerr := os.Remove(path); rerr != nil && err == nil {
			err = fmt.Errorf("telstate: %w", rerr)
		}
	}
	return written, err
}
