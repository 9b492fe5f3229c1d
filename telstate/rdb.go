package telstate

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	rec, ok, err := backend.ReadRecord(ctx, ts.be, key)
	if err != nil {
		return false, backendErr("write RDB", key, err)
	}
	if !ok {
		return false, nil
	}
	switch rec.Type {
	case backend.Immutable:
		err = rw.WriteString(key, rec.Value)
	case backend.Mutable:
		err = rw.WriteZSet(key, rec.Members)
	case backend.Indexed:
		err = rw.WriteHash(key, rec.Entries)
	}
	if err != nil {
		return false, fmt.Errorf("telstate: write RDB %s: %w", displayKey(key), err)
	}
	return true, nil
}

// CopyTo copies keys (full names, ignoring the view), or every key when
// none are given, from ts's backend into dst's, as raw bytes: each copied
// key replaces dst's key of that name, without immutability checks, as
// loading an RDB file does. A dst backend that is a backend.BatchLoader
// (Redis) receives many keys per round trip. Keys missing from ts are
// skipped and reported as in WriteRDB. It returns the number of keys
// copied; keys copied before an error stay copied.
func (ts *TelescopeState) CopyTo(ctx context.Context, dst *TelescopeState, keys ...string) (copied int, err error) {
	l, err := dst.loader()
	if err != nil {
		return 0, err
	}
	if len(keys) == 0 {
		if keys, err = ts.Root().Keys(ctx, "*"); err != nil {
			return 0, err
		}
	}
	var missing []string
	var batch []backend.Record
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := backend.LoadRecords(ctx, l, batch); err != nil {
			return fmt.Errorf("telstate: copy: %w", err)
		}
		copied += len(batch)
		batch, size = batch[:0], 0
		return nil
	}
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return copied, err
		}
		rec, ok, err := backend.ReadRecord(ctx, ts.be, []byte(k))
		if err != nil {
			return copied, backendErr("copy", []byte(k), err)
		}
		if !ok {
			missing = append(missing, displayKey([]byte(k)))
			continue
		}
		batch = append(batch, rec)
		if size += rec.Size(); len(batch) >= backend.BatchKeys || size >= backend.BatchBytes {
			if err := flush(); err != nil {
				return copied, err
			}
		}
	}
	if err := flush(); err != nil {
		return copied, err
	}
	if len(missing) > 0 {
		return copied, fmt.Errorf("%w: copy: %d of %d keys not copied: %s",
			ErrKeyNotFound, len(missing), len(keys), strings.Join(missing, ", "))
	}
	return copied, nil
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
