// Package web serves the queue connector's attributes, exchanges and
// commands over HTTP, for people (a live operator page) and programs (a
// JSON API and a Server-Sent Events stream), until a Tango binding exists.
//
// NewHandler wraps anything that implements Device; the connector's device
// does. Mount it on any server:
//
//	h := web.NewHandler(dev, web.WithTitle("lmc-queueconnector-01"))
//	srv := &http.Server{Addr: ":8080", Handler: h}
//	srv.RegisterOnShutdown(h.Close) // end the event streams on Shutdown
//
// # API
//
//	GET  /api/state              {"state": "ON", "status": "…"}
//	GET  /api/attributes         [attribute, …] in definition order
//	GET  /api/attributes/{name}  attribute, or 404 {"error"}
//	GET  /api/exchanges          [exchange, …]
//	POST /api/commands/{name}    body: the argument (Configure: descriptor JSON)
//	GET  /api/events             text/event-stream
//
// An attribute is its spec and its reading:
//
//	{"name": "bandpass",
//	 "dtype": "<f8",            numpy descr; a list of [name, descr(, shape)] when structured; "bytes" for DevEncoded
//	 "dtype_name": "<f8",
//	 "shape": [64],             maximum shape; -1 is unbounded
//	 "format": "SPECTRUM",      SCALAR, SPECTRUM, IMAGE ("" beyond two dimensions)
//	 "max_dim_x": 64, "max_dim_y": 0,
//	 "tango_type": "DevDouble", "" where Tango has none
//	 "access": "READ",
//	 "quality": "ATTR_VALID",   ATTR_INVALID when there is no value
//	 "time": "2026-…Z",         RFC 3339, when the value was set
//	 "seq": 17,                 the store's write number
//	 "value": …}
//
// An exchange is {"group", "name", "state" (new, started, running, done,
// failed, stopped), "in", "processed", "out", "errors", "lag", "last_in",
// "last_out" (RFC 3339 or null), "error"}.
//
// A command answers {"command", "ok", "error", "state", "status"} with
// status 200 on success; on failure the status comes from the error (see
// CommandStatus and WithErrorStatus): 409 when the command is not allowed
// in the current state, 400 for an invalid argument such as a descriptor
// that does not parse, 404 for an unknown command. Commands are protected
// against cross-site requests from browsers (http.CrossOriginProtection).
//
// # Values
//
// Values are plain JSON, so that any client can use them without knowing
// Python:
//
//	None                  null
//	bool, int             true/false, a number (ints keep all their digits)
//	float                 a number; NaN, +inf, -inf as "NaN", "Infinity", "-Infinity"
//	                      (JavaScript's Number() reads these back)
//	complex               {"re": x, "im": y}
//	str                   a string (lone surrogates become U+FFFD)
//	bytes                 {"base64": "…"}
//	list, tuple           an array
//	dict                  an object in insertion order (keys that are not str by Python's repr)
//	ndarray               {"dtype": descr, "shape": [...], "data": nested lists};
//	                      a structured element is an object of its named fields,
//	                      a sub-array field a nested list; arrays beyond the
//	                      element limit (WithMaxElements) have "data": null and "truncated": true
//	numpy scalar          its item as above; datetime64/timedelta64 as numpy's repr
//	msgpack Timestamp     {"timestamp": "RFC 3339"}
//
// float32 values are written in their shortest float32 form (0.1, not
// 0.10000000149011612).
//
// A DevEncoded attribute's value (encoding, payload) is
//
//	{"encoding": "msgpack_numpy", "base64": "…", "size": 1234, "preview": value}
//
// where preview is the payload decoded by the codec of that name (see
// WithEncodings) and rendered as above; an unknown encoding has no preview,
// a payload that does not decode has "preview_error" instead.
//
// # Events
//
// GET /api/events is a Server-Sent Events stream. It starts with one
// snapshot event holding everything:
//
//	event: snapshot
//	data: {"title", "state": {"state", "status"}, "attributes": [attribute, …], "exchanges": [exchange, …]}
//
// then carries changes as they happen:
//
//	event: attribute   an attribute as above, plus "coalesced": the number of
//	                   newer-replaces-older values this client missed
//	event: state       {"state", "status", "time"}
//	event: exchanges   [exchange, …], sampled every second (WithStatsInterval), when changed
//	event: removed     {"name"}: an attribute that no longer exists
//	: keepalive        a comment every 15 s (WithHeartbeat)
//
// A slow client never slows the device down: the attribute store keeps at
// most one pending event per attribute and client, and replaces it with
// newer ones (see package attribute), so a client that falls behind skips
// intermediate values but always ends with the latest. A client that takes
// no data for 30 s (WithWriteTimeout) is dropped. The stream ends when the
// client goes, when Close is called, or after WithMaxStreamDuration; the
// browser's EventSource then reconnects and starts over from a snapshot.
//
// # Page
//
// GET / is an operator page (embedded HTML, CSS and JavaScript, no external
// resources) fed by the event stream: the device state in Tango's colours
// and its status, command buttons, the exchanges with live counters and
// rates, and a card per attribute — scalars as numbers with a short
// history, 1-D arrays as line plots, images as heat maps, structured
// arrays as tables, DevEncoded values with their decoded preview.
package web
