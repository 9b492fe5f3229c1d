//go:build tango

// Package zmqtap is a raw ZeroMQ SUB socket for tests: it listens on a
// Tango device server's event endpoint and returns each multipart message
// as sent, so tests can compare our event frames with cppTango's byte for
// byte. It links Debian's libzmq, which cppTango already needs.
package zmqtap

/*
#cgo pkg-config: libzmq
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

static int tap_recv_part(void *sock, char **out, size_t *len, int *more)
{
	zmq_msg_t m;
	zmq_msg_init(&m);
	int rc = zmq_msg_recv(&m, sock, 0);
	if (rc < 0) {
		zmq_msg_close(&m);
		return -1;
	}
	*len = zmq_msg_size(&m);
	*out = malloc(*len ? *len : 1);
	memcpy(*out, zmq_msg_data(&m), *len);
	*more = zmq_msg_more(&m);
	zmq_msg_close(&m);
	return 0;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"time"
	"unsafe"
)

// ErrTimeout is returned by Recv when nothing arrived in time.
var ErrTimeout = errors.New("zmqtap: timed out")

// Tap is a connected SUB socket subscribed to every topic. It is not safe
// for concurrent use.
type Tap struct {
	ctx, sock unsafe.Pointer
}

// Dial connects a SUB socket to endpoint (e.g. "tcp://127.0.0.1:5555")
// and subscribes to everything. Messages published before the connection
// is made are lost (ZeroMQ's slow joiner): wait or retry.
func Dial(endpoint string, recvTimeout time.Duration) (*Tap, error) {
	ctx := C.zmq_ctx_new()
	if ctx == nil {
		return nil, errors.New("zmqtap: zmq_ctx_new failed")
	}
	sock := C.zmq_socket(ctx, C.ZMQ_SUB)
	if sock == nil {
		C.zmq_ctx_term(ctx)
		return nil, errors.New("zmqtap: zmq_socket failed")
	}
	t := &Tap{ctx: ctx, sock: sock}
	ms := C.int(recvTimeout / time.Millisecond)
	linger := C.int(0)
	C.zmq_setsockopt(sock, C.ZMQ_RCVTIMEO, unsafe.Pointer(&ms), C.size_t(unsafe.Sizeof(ms)))
	C.zmq_setsockopt(sock, C.ZMQ_LINGER, unsafe.Pointer(&linger), C.size_t(unsafe.Sizeof(linger)))
	C.zmq_setsockopt(sock, C.ZMQ_SUBSCRIBE, nil, 0)
	ce := C.CString(endpoint)
	defer C.free(unsafe.Pointer(ce))
	if C.zmq_connect(sock, ce) != 0 {
		t.Close()
		return nil, fmt.Errorf("zmqtap: connect %s: %s", endpoint, C.GoString(C.zmq_strerror(C.zmq_errno())))
	}
	return t, nil
}

// Recv returns the next multipart message, one []byte per frame.
func (t *Tap) Recv() ([][]byte, error) {
	var parts [][]byte
	for {
		var p *C.char
		var n C.size_t
		var more C.int
		if C.tap_recv_part(t.sock, &p, &n, &more) != 0 {
			switch C.zmq_errno() {
			case C.EINTR: // a signal (Go's preemption uses SIGURG): nothing was taken
				continue
			case C.EAGAIN:
				return nil, ErrTimeout
			}
			return nil, fmt.Errorf("zmqtap: recv: %s", C.GoString(C.zmq_strerror(C.zmq_errno())))
		}
		parts = append(parts, C.GoBytes(unsafe.Pointer(p), C.int(n)))
		C.free(unsafe.Pointer(p))
		if more == 0 {
			return parts, nil
		}
	}
}

// Close closes the socket and its context.
func (t *Tap) Close() {
	if t.sock != nil {
		C.zmq_close(t.sock)
		t.sock = nil
	}
	if t.ctx != nil {
		C.zmq_ctx_term(t.ctx)
		t.ctx = nil
	}
}
