package encoding

// builtins lists the codecs NewRegistry starts with: the encodings of
// ska-sdp-dataqueues' Encoding enum that have a defined byte format (xarray
// has none yet, see docs/dataqueue-encodings.md), plus plain msgpack.
func builtins() []Codec {
	return []Codec{UTF8Codec{}, ASCIICodec{}, JSONCodec{}, MsgpackNumpyCodec{}, NPYCodec{}, MsgpackCodec{}}
}
