//go:build tango

// shim.h: the C API of the cppTango shim (shim.cpp). Go calls these; the
// shim calls back into Go only through the functions exported by cgo
// (goTangoWrite, goTangoCommand, goTangoEvent), identified by the uintptr
// handles Go passes in. No Go pointer is kept by C++.
#ifndef SDPKIT_TANGO_SHIM_H
#define SDPKIT_TANGO_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// tg_value is a value owned by C (malloc'd buffers), handed to Go, which
// copies it and frees it with tg_value_free (or the shim frees it after a
// callback returns).
typedef struct {
	int type;     // Tango CmdArgType (DEV_DOUBLE = 5, ...)
	int format;   // 0 SCALAR, 1 SPECTRUM, 2 IMAGE
	int dim_x, dim_y;
	char *data;   // numeric/bool elements in C order, or DevEncoded payload
	size_t len;   // bytes in data
	char *strs;   // DevString elements, each NUL-terminated; DevEncoded format
	size_t strs_len;
	int nstrs;
	int quality;  // Tango AttrQuality
	int64_t time_ns;
	int has_value; // 0 when the quality is INVALID and no value came
} tg_value;

void tg_value_free(tg_value *v);

// tg_err is a DevFailed flattened: records separated by 0x1e, fields
// (reason, desc, origin, severity) by 0x1f. malloc'd; free with free().
typedef char tg_err;

// ---- device server ----

// tg_server_start starts the (process-wide, one per process) device server
// in no-database mode in its own thread and returns once it serves or has
// failed. argv holds the full Tango command line.
tg_err *tg_server_start(uintptr_t handle, const char *class_name, int argc, char **argv);

// tg_attr_add adds a dynamic attribute. write_type: 0 READ, 1 READ_WRITE,
// 2 WRITE. events: also mark change/archive events as pushed manually.
tg_err *tg_attr_add(const char *name, int type, int format, int write_type, long max_x, long max_y);
tg_err *tg_attr_remove(const char *name);

// tg_attr_set sets an attribute's value (name: name_len bytes, not
// NUL-terminated, so Go can pass a string without copying); has_value 0
// makes it INVALID without a value. data/len: numeric elements (C
// order) or the DevEncoded payload; strs: nstrs NUL-terminated strings
// (DevString elements, or the DevEncoded format). quality: Tango AttrQuality;
// time_ns: Unix time, INT64_MIN for now. push: bit 0 change event, bit 1 archive event.
tg_err *tg_attr_set(const char *name, size_t name_len, int has_value, int dim_x, int dim_y, const void *data, size_t len,
		    const char *strs, size_t strs_len, int nstrs, int quality, int64_t time_ns, int push);

// tg_set_fast_events turns the fast event path on (the default) or off
// (every event through cppTango's fire_*_event; tests compare the two).
void tg_set_fast_events(int on);
// tg_fast_pushed counts the events the fast path sent.
uint64_t tg_fast_pushed(void);
// tg_event_endpoint returns cppTango's event publisher endpoint (malloc'd;
// "" until a client first subscribed).
char *tg_event_endpoint(void);

tg_err *tg_cmd_add(const char *name, int in_type, int out_type);
tg_err *tg_cmd_remove(const char *name);
tg_err *tg_set_state(int state);
tg_err *tg_set_status(const char *status);

// ---- client ----

typedef struct tg_proxy tg_proxy;

tg_err *tg_proxy_new(const char *trl, tg_proxy **out);
void tg_proxy_delete(tg_proxy *p);
tg_err *tg_proxy_set_timeout(tg_proxy *p, int ms);
tg_err *tg_read(tg_proxy *p, const char *attr, tg_value *out);
// tg_attr_info gives an attribute's type and format (for writes).
tg_err *tg_attr_info(tg_proxy *p, const char *attr, int *type, int *format, int *write_type);
tg_err *tg_write(tg_proxy *p, const char *attr, int type, int format, int dim_x, int dim_y,
		 const void *data, size_t len, const char *strs, size_t strs_len, int nstrs);
// tg_command runs a command; in_type 0 (void), 8 (string) or as the
// command declares. The result is in out (type DEV_VOID when none).
tg_err *tg_command(tg_proxy *p, const char *cmd, int has_arg, const char *arg, tg_value *out);
tg_err *tg_subscribe(tg_proxy *p, const char *attr, int event_type, int stateless, uintptr_t handle, int *id);
tg_err *tg_unsubscribe(tg_proxy *p, int id);

// tg_quick_exit ends the process without running static destructors:
// cppTango's (its ZMQ context waits for sockets its threads own) can block
// exit() forever, which the race runtime calls at the end.
void tg_quick_exit(int code);

#ifdef __cplusplus
}
#endif

#endif
