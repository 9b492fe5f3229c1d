package rdb

import (
	"hash/crc64"
	"sync"
)

// jonesPoly is the bit-reversed form of the Jones CRC-64 polynomial
// 0xad93d23594c935a9 that Redis uses for RDB files and DUMP payloads.
const jonesPoly = 0x95ac9329ac4bc9b5

// crcTable is built once; it is never written after construction.
var crcTable = sync.OnceValue(func() *crc64.Table { return crc64.MakeTable(jonesPoly) })

// crcUpdate continues a Redis CRC-64 (initial value 0, no final xor) over p.
// The standard library's crc64 inverts the value on entry and exit, so the
// state is inverted around the call to cancel that out.
func crcUpdate(crc uint64, p []byte) uint64 {
	return ^crc64.Update(^crc, crcTable(), p)
}

// CRC64 returns Redis's CRC-64 (Jones polynomial, reflected, initial value
// 0, no final xor) of p: the checksum ending RDB files and DUMP payloads,
// stored little-endian.
func CRC64(p []byte) uint64 { return crcUpdate(0, p) }
