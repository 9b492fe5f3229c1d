package encoding

// builtins lists the codecs NewRegistry starts with.
func builtins() []Codec {
	return []Codec{UTF8Codec{}, ASCIICodec{}}
}
