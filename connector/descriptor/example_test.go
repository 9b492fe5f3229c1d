package descriptor_test

import (
	"encoding/json"
	"fmt"

	"github.com/sdpkit/sdpkit/connector/descriptor"
)

func ExampleParse() {
	d, err := descriptor.Parse([]byte(`{"exchanges": [{
		"dtype": "float64",
		"source": {"type": "KafkaConsumerSource", "servers": "localhost:9092", "topic": "offsets"},
		"sink": {"type": "TangoLocalAttributeSink", "attribute_name": "offset"}}]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ex := range d.All() {
		for _, s := range ex.Sources {
			switch s := s.(type) {
			case *descriptor.KafkaConsumerSource:
				fmt.Println("consume", s.Topic, "from", s.Servers.Addrs, "as", s.Encoding)
			}
		}
		fmt.Printf("%s %v via %s into %s\n", ex.DType.NumPy, ex.Shape, ex.Pipe.Kind(), ex.Sink.Kind())
	}
	// Output:
	// consume offsets from [localhost:9092] as python
	// <f8 [] via DefaultPipe into TangoLocalAttributeSink
}

func ExampleParse_errors() {
	_, err := descriptor.Parse([]byte(`{"exchanges": [{
		"source": {"type": "KafkaConsumerSource", "servers": "localhost:9092", "topic": "t", "encoding": "pickle"},
		"sink": {"type": "KafkaProducerSink", "servers": "localhost:9092", "topic": "u", "timestamp_options": {"reducer": "median"}}}]}`))
	if de, ok := err.(*descriptor.Error); ok {
		for _, p := range de.Problems {
			fmt.Println(p)
		}
	}
	// Output:
	// exchanges[0].source.encoding: "pickle" is not one of utf-8, ascii, python, json, msgpack_numpy, npy, carray
	// exchanges[0].sink.timestamp_options.reducer: "median" is not one of min, max, mean
}

func ExampleMarshal() {
	d, _ := descriptor.Parse([]byte(`{"exchanges": [{"source": {"type": "InMemorySource", "data": [1, 2.5]}, "sink": {"type": "InMemorySink", "key": "k"}}]}`))
	out, _ := descriptor.Marshal(d)
	fmt.Println(string(out))
	// Output:
	// {
	//   "exchanges": [
	//     {
	//       "dtype": "str",
	//       "pipe": {
	//         "type": "DefaultPipe"
	//       },
	//       "shape": [],
	//       "sink": {
	//         "key": "k",
	//         "type": "InMemorySink"
	//       },
	//       "source": {
	//         "data": [
	//           1,
	//           2.5
	//         ],
	//         "delay": 0.0,
	//         "type": "InMemorySource"
	//       }
	//     }
	//   ]
	// }
}

func ExampleSchema() {
	var s struct {
		Defs map[string]struct {
			Required   []string `json:"required"`
			Properties map[string]struct {
				Default any `json:"default"`
				Minimum any `json:"minimum"`
			} `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(descriptor.Schema(), &s); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Defs["KafkaProducerSinkDescriptor"].Required)
	p := s.Defs["KafkaProducerSinkDescriptor"].Properties["message_max_bytes"]
	fmt.Println("message_max_bytes default", p.Default, "minimum", p.Minimum)
	// Output:
	// [type servers topic]
	// message_max_bytes default 1.048576e+06 minimum 1
}
