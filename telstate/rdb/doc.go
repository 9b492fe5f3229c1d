// Package rdb reads and writes Redis RDB files and Redis DUMP payloads the
// way katsdptelstate does, byte for byte.
//
// # Reading
//
// [Read] streams an RDB file (versions 1 to 12, i.e. everything up to Redis
// 7.4) and calls a function once per string, sorted set or hash key, in file
// order. It understands every encoding Redis has used for those types:
// plain, zipmap, ziplist, listpack and skiplist (binary or text scores),
// with raw, integer-encoded or LZF-compressed strings. Lists, sets and
// module values are parsed and skipped without being reported, as
// katsdptelstate does; streams and pre-release module values cannot be
// skipped reliably and stop the read with an error. [Load] and [LoadFile]
// feed the records into a [backend.Loader] and count them.
//
// Every problem with the input (bad magic, unsupported version, truncation,
// an impossible length, a wrong checksum, ...) is reported as a
// *[ParseError] carrying the byte offset; errors.Is(err,
// backend.ErrRdbParse) holds for all of them. The reader never panics on
// hostile input and never allocates much more than the input it has
// actually seen: length claims are checked against the bytes left when the
// input size is known, and otherwise filled in bounded chunks so that a
// huge claim in a truncated file fails with a truncation error.
//
// # Writing
//
// [Writer] produces exactly the files katsdptelstate's RDBWriter produces
// from a MemoryBackend: header "REDIS0006" + SELECTDB 0, one record per key
// with no expiry or AUX fields, then EOF and a CRC-64. Small sorted sets and
// hashes are written as ziplists and larger ones in the plain encodings, so
// both Python's rdbtools and every Redis release from 2.6 on can load the
// result. Unlike Python the writer computes the real CRC-64 by default;
// [ZeroChecksum] writes eight zero bytes instead, as Python does.
//
// [DumpString], [DumpZSet] and [DumpHash] produce the Redis DUMP payloads
// katsdptelstate's MemoryBackend returns from dump(), and [Writer.WriteDump]
// copies any DUMP payload (from that encoder or from a real server) into a
// file.
package rdb
