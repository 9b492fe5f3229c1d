//go:build tango

// shim.cpp: a thin extern "C" layer over cppTango 9.3 for the Go package.
// The device server is one device of one class (GoDevice) in no-database
// mode; its attributes and commands are added at run time and their values
// held here, as immutable snapshots replaced by tg_attr_set. Calls from Go
// threads take the device monitor (the lock the ORB threads hold while they
// serve a request) so that they never overlap a request.
#include "shim.h"

#include <tango.h>
#include <eventconsumer.h> // ZmqEventConsumer::get_subscribed_event_ids
#include <eventsupplier.h> // ZmqEventSupplier, for the fast event path

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <unistd.h>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

extern "C" {
// Exported by the Go side (cgo). They return a malloc'd error text
// ("reason\x1fdescription") or NULL.
char *goTangoWrite(uintptr_t handle, char *name, tg_value *v);
char *goTangoCommand(uintptr_t handle, char *name, char *arg, int has_arg, char **out_str, int *out_bool);
void goTangoEvent(uintptr_t handle, char *attr, char *event, tg_value *v, char *err);
}

namespace {

char *dup_err(const std::string &s)
{
	char *p = static_cast<char *>(std::malloc(s.size() + 1));
	std::memcpy(p, s.c_str(), s.size() + 1);
	return p;
}

tg_err *flatten(const Tango::DevErrorList &errs)
{
	std::string s;
	for (CORBA::ULong i = 0; i < errs.length(); i++) {
		if (i > 0)
			s += '\x1e';
		s += errs[i].reason.in();
		s += '\x1f';
		s += errs[i].desc.in();
		s += '\x1f';
		s += errs[i].origin.in();
		s += '\x1f';
		s += std::to_string(static_cast<int>(errs[i].severity));
	}
	if (s.empty())
		s = "API_Unknown\x1funknown DevFailed\x1f\x1f" "0";
	return dup_err(s);
}

tg_err *simple_err(const std::string &reason, const std::string &desc, const std::string &origin)
{
	return dup_err(reason + '\x1f' + desc + '\x1f' + origin + '\x1f' + "0");
}

#define TG_TRY try {
#define TG_CATCH(origin)                                                   \
	}                                                                  \
	catch (Tango::DevFailed & e) { return flatten(e.errors); }         \
	catch (CORBA::Exception & e) {                                     \
		Tango::DevFailed df;                                       \
		try { Tango::Except::print_exception(e); } catch (...) {}  \
		return simple_err("CORBA_Exception", e._name(), origin);   \
	}                                                                  \
	catch (std::exception & e) { return simple_err("std_exception", e.what(), origin); } \
	catch (...) { return simple_err("unknown_exception", "unknown C++ exception", origin); } \
	return nullptr;

size_t elem_size(int type)
{
	switch (type) {
	case Tango::DEV_BOOLEAN: case Tango::DEV_UCHAR: return 1;
	case Tango::DEV_SHORT: case Tango::DEV_USHORT: return 2;
	case Tango::DEV_LONG: case Tango::DEV_ULONG: case Tango::DEV_FLOAT: return 4;
	case Tango::DEV_LONG64: case Tango::DEV_ULONG64: case Tango::DEV_DOUBLE: return 8;
	default: return 0;
	}
}

void split_strs(const char *strs, size_t len, int n, std::vector<std::string> &out)
{
	size_t off = 0;
	for (int i = 0; strs && i < n && off <= len; i++) {
		const char *s = strs + off;
		size_t l = strnlen(s, len - off);
		out.emplace_back(s, l);
		off += l + 1;
	}
	while (static_cast<int>(out.size()) < n)
		out.emplace_back();
}

void join_strs(const std::vector<std::string> &in, tg_value *v)
{
	size_t total = 0;
	for (auto &s : in)
		total += s.size() + 1;
	v->strs = static_cast<char *>(std::malloc(total ? total : 1));
	size_t off = 0;
	for (auto &s : in) {
		std::memcpy(v->strs + off, s.c_str(), s.size() + 1);
		off += s.size() + 1;
	}
	v->strs_len = total;
	v->nstrs = static_cast<int>(in.size());
}

void set_bytes(tg_value *v, const void *p, size_t n)
{
	v->data = static_cast<char *>(std::malloc(n ? n : 1));
	if (n)
		std::memcpy(v->data, p, n);
	v->len = n;
}

// Snapshot is one immutable attribute value held by the server.
struct Snapshot {
	int dim_x = 0, dim_y = 0;
	std::vector<char> raw;
	std::vector<std::string> strs;
	std::vector<char *> str_ptrs;
	Tango::DevEncoded enc;
	Tango::AttrQuality quality = Tango::ATTR_INVALID;
	struct timeval time {};
	bool has_value = false;
};

// AttrState is what the server keeps per attribute: the current snapshot
// and the few most recently served ones. cppTango marshals a read reply
// after the device monitor is released, from the buffer it was given, so
// a served snapshot must outlive its request; keeping the last kServed
// alive covers that without copying each read.
struct FastEvent;

struct AttrState {
	int type = 0, format = 0, write_type = 0;
	std::shared_ptr<Snapshot> current;
	std::deque<std::shared_ptr<Snapshot>> served;
	std::shared_ptr<FastEvent> fast; // made on the first fast push
};
constexpr size_t kServed = 32;

class GoDevice;

// adopt_thread makes the calling thread (a Go thread) known to omniORB for
// good, as cppTango's locks and event consumer expect omni_threads; a
// scoped ensure_self released the identity while cppTango still used it.
void adopt_thread()
{
	static thread_local bool adopted = false;
	if (adopted)
		return;
	if (omni_thread::self() == nullptr)
		omni_thread::create_dummy();
	adopted = true;
}

struct Server {
	uintptr_t handle = 0;
	std::string class_name;
	GoDevice *dev = nullptr;
	std::map<std::string, AttrState> attrs; // guarded by the device monitor
	std::thread thread;
	std::mutex mu;
	std::condition_variable cv;
	bool ready = false, failed = false, running = false;
	std::string err;
	bool fast_events = true; // see push_fast
	std::atomic<uint64_t> fast_pushed{0};
};
Server *g_server = nullptr; // one Tango::Util per process

// set_numeric hands Tango a numeric value: scalars as a copy Tango owns
// and frees (cppTango keeps some scalar types in per-attribute scratch
// space, so a shared buffer could be seen stale), arrays from the snapshot.
template <typename T>
void set_numeric(Tango::Attribute &att, AttrState &st, const std::shared_ptr<Snapshot> &s, void *d)
{
	if (st.format == 0) {
		T *p = new T;
		std::memcpy(p, d, sizeof(T));
		att.set_value_date_quality(p, s->time, s->quality, 1, 0, true);
		return;
	}
	att.set_value_date_quality(static_cast<T *>(d), s->time, s->quality, s->dim_x, s->dim_y, false);
}

void fill_attribute(Tango::Attribute &att, AttrState &st)
{
	std::shared_ptr<Snapshot> s = st.current;
	if (!s || !s->has_value) {
		att.set_quality(Tango::ATTR_INVALID);
		return;
	}
	st.served.push_back(s);
	if (st.served.size() > kServed)
		st.served.pop_front();
	long x = s->dim_x, y = s->dim_y;
	struct timeval t = s->time;
	Tango::AttrQuality q = s->quality;
	void *d = s->raw.data();
	switch (st.type) {
	case Tango::DEV_BOOLEAN: set_numeric<Tango::DevBoolean>(att, st, s, d); break;
	case Tango::DEV_UCHAR: set_numeric<Tango::DevUChar>(att, st, s, d); break;
	case Tango::DEV_SHORT: set_numeric<Tango::DevShort>(att, st, s, d); break;
	case Tango::DEV_USHORT: set_numeric<Tango::DevUShort>(att, st, s, d); break;
	case Tango::DEV_LONG: set_numeric<Tango::DevLong>(att, st, s, d); break;
	case Tango::DEV_ULONG: set_numeric<Tango::DevULong>(att, st, s, d); break;
	case Tango::DEV_LONG64: set_numeric<Tango::DevLong64>(att, st, s, d); break;
	case Tango::DEV_ULONG64: set_numeric<Tango::DevULong64>(att, st, s, d); break;
	case Tango::DEV_FLOAT: set_numeric<Tango::DevFloat>(att, st, s, d); break;
	case Tango::DEV_DOUBLE: set_numeric<Tango::DevDouble>(att, st, s, d); break;
	case Tango::DEV_STRING: att.set_value_date_quality(s->str_ptrs.data(), t, q, x, y, false); break;
	case Tango::DEV_ENCODED: att.set_value_date_quality(&s->enc, t, q, 1, 0, false); break;
	default:
		Tango::Except::throw_exception("API_AttrOptProp", "unsupported attribute type", "GoDevice::read");
	}
}

template <typename T>
void copy_written(Tango::WAttribute &w, tg_value *v)
{
	const T *p = nullptr;
	w.get_write_value(p);
	long n = w.get_write_value_length();
	set_bytes(v, p, n * sizeof(T));
}

// written extracts a client's written value into v (malloc'd buffers).
void written(Tango::WAttribute &w, int type, tg_value *v)
{
	v->type = type;
	v->dim_x = w.get_w_dim_x();
	v->dim_y = w.get_w_dim_y();
	v->has_value = 1;
	v->quality = Tango::ATTR_VALID;
	switch (type) {
	case Tango::DEV_BOOLEAN: copy_written<Tango::DevBoolean>(w, v); break;
	case Tango::DEV_UCHAR: copy_written<Tango::DevUChar>(w, v); break;
	case Tango::DEV_SHORT: copy_written<Tango::DevShort>(w, v); break;
	case Tango::DEV_USHORT: copy_written<Tango::DevUShort>(w, v); break;
	case Tango::DEV_LONG: copy_written<Tango::DevLong>(w, v); break;
	case Tango::DEV_ULONG: copy_written<Tango::DevULong>(w, v); break;
	case Tango::DEV_LONG64: copy_written<Tango::DevLong64>(w, v); break;
	case Tango::DEV_ULONG64: copy_written<Tango::DevULong64>(w, v); break;
	case Tango::DEV_FLOAT: copy_written<Tango::DevFloat>(w, v); break;
	case Tango::DEV_DOUBLE: copy_written<Tango::DevDouble>(w, v); break;
	case Tango::DEV_STRING: {
		const Tango::ConstDevString *p = nullptr;
		w.get_write_value(p);
		long n = w.get_write_value_length();
		std::vector<std::string> ss;
		for (long i = 0; i < n; i++)
			ss.emplace_back(p[i] ? p[i] : "");
		join_strs(ss, v);
		break;
	}
	case Tango::DEV_ENCODED: {
		const Tango::DevEncoded *p = nullptr;
		w.get_write_value(p);
		std::vector<std::string> f{p->encoded_format.in() ? p->encoded_format.in() : ""};
		join_strs(f, v);
		set_bytes(v, p->encoded_data.get_buffer(), p->encoded_data.length());
		break;
	}
	}
}

// throw_go_err turns a Go error text ("reason\x1fdesc") into a DevFailed.
void throw_go_err(char *e, const char *origin)
{
	std::string s(e);
	std::free(e);
	std::string reason = "GoError", desc = s;
	size_t k = s.find('\x1f');
	if (k != std::string::npos) {
		reason = s.substr(0, k);
		desc = s.substr(k + 1);
	}
	Tango::Except::throw_exception(reason, desc, origin);
}

std::shared_ptr<Snapshot> make_snapshot(int type, int has_value, int dim_x, int dim_y, const void *data, size_t len,
					const char *strs, size_t strs_len, int nstrs, int quality, int64_t time_ns)
{
	auto s = std::make_shared<Snapshot>();
	s->dim_x = dim_x;
	s->dim_y = dim_y;
	s->quality = static_cast<Tango::AttrQuality>(quality);
	if (time_ns == INT64_MIN) { // now: one clock read instead of Go's two (wall and monotonic)
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		time_ns = int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
	}
	s->time.tv_sec = static_cast<time_t>(time_ns / 1000000000);
	s->time.tv_usec = static_cast<suseconds_t>((time_ns % 1000000000) / 1000);
	s->has_value = has_value != 0;
	if (!s->has_value)
		return s;
	if (type == Tango::DEV_STRING) {
		split_strs(strs, strs_len, nstrs, s->strs);
		for (auto &x : s->strs)
			s->str_ptrs.push_back(const_cast<char *>(x.c_str()));
	} else if (type == Tango::DEV_ENCODED) {
		std::vector<std::string> f;
		split_strs(strs, strs_len, 1, f);
		s->enc.encoded_format = CORBA::string_dup(f[0].c_str());
		s->enc.encoded_data.length(static_cast<CORBA::ULong>(len));
		if (len)
			std::memcpy(s->enc.encoded_data.get_buffer(), data, len);
	} else {
		s->raw.assign(static_cast<const char *>(data), static_cast<const char *>(data) + len);
	}
	return s;
}

// GoAttr is a dynamic attribute whose read and write go through the server
// state; Base is Tango::Attr, SpectrumAttr or ImageAttr.
template <class Base>
class GoAttr : public Base {
public:
	template <typename... Args>
	GoAttr(Args... args) : Base(args...) {}
	void read(Tango::DeviceImpl *, Tango::Attribute &att) override
	{
		auto it = g_server->attrs.find(att.get_name());
		if (it == g_server->attrs.end())
			Tango::Except::throw_exception("API_AttrNotFound", "attribute removed", "GoDevice::read");
		fill_attribute(att, it->second);
	}
	void write(Tango::DeviceImpl *, Tango::WAttribute &w) override
	{
		auto it = g_server->attrs.find(w.get_name());
		if (it == g_server->attrs.end())
			Tango::Except::throw_exception("API_AttrNotFound", "attribute removed", "GoDevice::write");
		tg_value v{};
		v.format = it->second.format;
		written(w, it->second.type, &v);
		std::string name = w.get_name();
		char *e = goTangoWrite(g_server->handle, const_cast<char *>(name.c_str()), &v);
		if (e) {
			tg_value_free(&v);
			throw_go_err(e, "GoDevice::write");
		}
		// The written value becomes the read value, and subscribers hear of it.
		struct timeval now;
		gettimeofday(&now, nullptr);
		int64_t ns = int64_t(now.tv_sec) * 1000000000 + int64_t(now.tv_usec) * 1000;
		it->second.current = make_snapshot(it->second.type, 1, v.dim_x, v.dim_y, v.data, v.len, v.strs,
						   v.strs_len, v.nstrs, Tango::ATTR_VALID, ns);
		tg_value_free(&v);
	}
	bool is_allowed(Tango::DeviceImpl *, Tango::AttReqType) override { return true; }
};

class GoCommand : public Tango::Command {
public:
	GoCommand(const char *name, Tango::CmdArgType in, Tango::CmdArgType out)
	    : Tango::Command(name, in, out) {}
	CORBA::Any *execute(Tango::DeviceImpl *, const CORBA::Any &in_any) override
	{
		std::string arg;
		int has_arg = 0;
		if (get_in_type() == Tango::DEV_STRING) {
			Tango::DevString s;
			extract(in_any, s);
			arg = s ? s : "";
			has_arg = 1;
		}
		char *out_str = nullptr;
		int out_bool = 0;
		std::string name = get_name();
		char *e = goTangoCommand(g_server->handle, const_cast<char *>(name.c_str()),
					 const_cast<char *>(arg.c_str()), has_arg, &out_str, &out_bool);
		if (e) {
			std::free(out_str);
			throw_go_err(e, "GoDevice::command");
		}
		switch (get_out_type()) {
		case Tango::DEV_STRING: {
			Tango::DevString r = CORBA::string_dup(out_str ? out_str : "");
			std::free(out_str);
			return insert(r);
		}
		case Tango::DEV_BOOLEAN:
			std::free(out_str);
			return insert(static_cast<Tango::DevBoolean>(out_bool != 0));
		default:
			std::free(out_str);
			return insert();
		}
	}
	bool is_allowed(Tango::DeviceImpl *, const CORBA::Any &) override { return true; }
};

class GoDevice : public Tango::Device_5Impl {
public:
	GoDevice(Tango::DeviceClass *cl, std::string &name) : Tango::Device_5Impl(cl, name.c_str()) { init_device(); }
	void init_device() override
	{
		set_state(Tango::UNKNOWN);
		set_status("The device is in UNKNOWN state.");
	}
};

class GoClass : public Tango::DeviceClass {
public:
	explicit GoClass(std::string &name) : Tango::DeviceClass(name) {}
	void command_factory() override {}
	void attribute_factory(std::vector<Tango::Attr *> &) override {}
	void device_factory(const Tango::DevVarStringArray *list) override
	{
		for (CORBA::ULong i = 0; i < list->length(); i++) {
			std::string name((*list)[i].in());
			GoDevice *d = new GoDevice(this, name);
			device_list.push_back(d);
			if (g_server && !g_server->dev)
				g_server->dev = d;
			export_device(d, d->get_name().c_str());
		}
	}
};

void server_main(int argc, std::vector<std::string> args)
{
	std::vector<char *> argv;
	for (auto &a : args)
		argv.push_back(const_cast<char *>(a.c_str()));
	argv.push_back(nullptr);
	try {
		Tango::Util *tg = Tango::Util::init(argc, argv.data());
		tg->server_init(false);
		{
			std::lock_guard<std::mutex> l(g_server->mu);
			g_server->ready = true;
			g_server->running = true;
		}
		g_server->cv.notify_all();
		tg->server_run();
	} catch (Tango::DevFailed &e) {
		std::lock_guard<std::mutex> l(g_server->mu);
		g_server->failed = true;
		g_server->err = std::string(flatten(e.errors));
	} catch (CORBA::Exception &e) {
		std::lock_guard<std::mutex> l(g_server->mu);
		g_server->failed = true;
		g_server->err = std::string("CORBA_Exception\x1f") + e._name() + "\x1fserver_main\x1f" "0";
	}
	{
		std::lock_guard<std::mutex> l(g_server->mu);
		g_server->running = false;
	}
	g_server->cv.notify_all();
}

// Locked runs f with the device monitor held, from a thread that omniORB
// may not know (a Go thread), as the ORB threads do for requests.
// ---- the fast event path ----
//
// Why: cppTango's Attribute::fire_change_event costs several µs an event
// (it rebuilds the event name, looks maps up by string, copies the value
// twice and allocates all along), more than the rest of Server.Set. In the
// steady state (every subscriber speaks IDL 5, no "double send" pending
// after a new subscription, no multicast, which needs a Tango database we
// never use) push_fast puts the same four ZMQ frames on cppTango's own
// publisher socket, under cppTango's push mutex and with cppTango's event
// counter: the event name, the endianness, the ZmqCallInfo and the
// marshalled AttributeValue_5 (both marshalled by cppTango's own IDL
// code). Anything else (other clients, INVALID values, DevEncoded,
// writable attributes) goes through cppTango. Tests compare our frames
// with cppTango's byte for byte (fast_events_test.go).

// Rob reads a private member of cppTango's event supplier: access checks
// do not apply to the arguments of an explicit instantiation, so this is
// standard C++ rather than a #define private public over the headers.
template <typename Tag, typename Tag::type M>
struct Rob {
	friend typename Tag::type member(Tag) { return M; }
};
struct PubSock {
	typedef zmq::socket_t *Tango::ZmqEventSupplier::*type;
	friend type member(PubSock);
};
struct EventCtr {
	typedef std::map<std::string, unsigned int> Tango::ZmqEventSupplier::*type;
	friend type member(EventCtr);
};
struct DoubleSend {
	typedef int Tango::ZmqEventSupplier::*type;
	friend type member(DoubleSend);
};
template struct Rob<PubSock, &Tango::ZmqEventSupplier::event_pub_sock>;
template struct Rob<EventCtr, &Tango::ZmqEventSupplier::event_cptr>;
template struct Rob<DoubleSend, &Tango::ZmqEventSupplier::double_send>;

// FastEvent is an attribute's reusable state for push_fast.
struct FastEvent {
	std::string name[2];     // full event names: change, archive
	zmq_msg_t name_msg[2];   // the same as ZMQ messages, sent as refcounted copies
	bool has_name_msg[2] = {false, false};
	std::vector<char> call;  // ZmqCallInfo marshalled with ctr 0
	size_t ctr_at = 0;       // where its counter sits
	Tango::AttributeValue_5 av;
	int arm = -1; // the union arm set in av (a fresh union's discriminator says ATT_BOOL but holds nothing)
	cdrMemoryStream data;

	FastEvent() = default;
	FastEvent(const FastEvent &) = delete;
	FastEvent &operator=(const FastEvent &) = delete;
	~FastEvent()
	{
		for (int k = 0; k < 2; k++)
			if (has_name_msg[k])
				zmq_msg_close(&name_msg[k]);
	}
};

// fill_seq copies n elements of the snapshot into the union arm, reusing
// the arm's buffer from the previous event.
template <typename Seq, typename Elem>
void fill_seq(Tango::AttrValUnion &u, int &arm, Tango::AttributeDataType d, Seq &(Tango::AttrValUnion::*get)(),
	      void (Tango::AttrValUnion::*set)(const Seq &), const Snapshot &s, CORBA::ULong n)
{
	if (arm != int(d)) {
		arm = int(d);
		Seq empty;
		(u.*set)(empty);
	}
	Seq &q = (u.*get)();
	q.length(n);
	if (n)
		std::memcpy(q.get_buffer(), s.raw.data(), n * sizeof(Elem));
}

// fill_value puts the snapshot's value into av's union; false if push_fast
// does not handle the type.
bool fill_value(Tango::AttrValUnion &u, int &arm, int type, const Snapshot &s, CORBA::ULong n)
{
	using U = Tango::AttrValUnion;
	switch (type) {
	case Tango::DEV_BOOLEAN: fill_seq<Tango::DevVarBooleanArray, CORBA::Boolean>(u, arm, Tango::ATT_BOOL, &U::bool_att_value, &U::bool_att_value, s, n); return true;
	case Tango::DEV_UCHAR: fill_seq<Tango::DevVarCharArray, CORBA::Octet>(u, arm, Tango::ATT_UCHAR, &U::uchar_att_value, &U::uchar_att_value, s, n); return true;
	case Tango::DEV_SHORT: fill_seq<Tango::DevVarShortArray, CORBA::Short>(u, arm, Tango::ATT_SHORT, &U::short_att_value, &U::short_att_value, s, n); return true;
	case Tango::DEV_USHORT: fill_seq<Tango::DevVarUShortArray, CORBA::UShort>(u, arm, Tango::ATT_USHORT, &U::ushort_att_value, &U::ushort_att_value, s, n); return true;
	case Tango::DEV_LONG: fill_seq<Tango::DevVarLongArray, CORBA::Long>(u, arm, Tango::ATT_LONG, &U::long_att_value, &U::long_att_value, s, n); return true;
	case Tango::DEV_ULONG: fill_seq<Tango::DevVarULongArray, CORBA::ULong>(u, arm, Tango::ATT_ULONG, &U::ulong_att_value, &U::ulong_att_value, s, n); return true;
	case Tango::DEV_LONG64: fill_seq<Tango::DevVarLong64Array, CORBA::LongLong>(u, arm, Tango::ATT_LONG64, &U::long64_att_value, &U::long64_att_value, s, n); return true;
	case Tango::DEV_ULONG64: fill_seq<Tango::DevVarULong64Array, CORBA::ULongLong>(u, arm, Tango::ATT_ULONG64, &U::ulong64_att_value, &U::ulong64_att_value, s, n); return true;
	case Tango::DEV_FLOAT: fill_seq<Tango::DevVarFloatArray, CORBA::Float>(u, arm, Tango::ATT_FLOAT, &U::float_att_value, &U::float_att_value, s, n); return true;
	case Tango::DEV_DOUBLE: fill_seq<Tango::DevVarDoubleArray, CORBA::Double>(u, arm, Tango::ATT_DOUBLE, &U::double_att_value, &U::double_att_value, s, n); return true;
	case Tango::DEV_STRING: {
		if (arm != int(Tango::ATT_STRING)) {
			arm = int(Tango::ATT_STRING);
			Tango::DevVarStringArray empty;
			u.string_att_value(empty);
		}
		Tango::DevVarStringArray &q = u.string_att_value();
		q.length(n);
		for (CORBA::ULong i = 0; i < n; i++)
			q[i] = CORBA::string_dup(i < s.strs.size() ? s.strs[i].c_str() : "");
		return true;
	}
	default:
		return false;
	}
}

// push_fast sends the attribute's current snapshot as a change (kind 0) or
// archive (kind 1) event. It returns false when cppTango must send it
// instead (see above); true when it was sent or nobody subscribed.
bool push_fast(Tango::Attribute &att, AttrState &st, int kind)
{
	if (!g_server->fast_events || st.write_type != 0)
		return false;
	const Snapshot &s = *st.current;
	if (!s.has_value || s.quality == Tango::ATTR_INVALID)
		return false;
	Tango::EventType et = kind == 0 ? Tango::CHANGE_EVENT : Tango::ARCHIVE_EVENT;
	if (!(kind == 0 ? att.change_event_subscribed() : att.archive_event_subscribed()))
		return true;
	const std::vector<int> &libs = att.get_client_lib(et);
	if (libs.empty())
		return false;
	for (int v : libs)
		if (v < 5)
			return false;
	Tango::ZmqEventSupplier *sup = Tango::Util::instance()->get_zmq_event_supplier();
	if (!sup)
		return false;
	if (!st.fast) {
		st.fast = std::make_shared<FastEvent>();
		st.fast->av.name = CORBA::string_dup(att.get_name().c_str());
	}
	FastEvent &fe = *st.fast;
	CORBA::ULong n = st.format == 0 ? 1 : CORBA::ULong(s.dim_x) * CORBA::ULong(s.dim_y ? s.dim_y : 1);
	if (!fill_value(fe.av.value, fe.arm, st.type, s, n))
		return false;
	if (!fe.has_name_msg[kind]) {
		std::string &name = fe.name[kind];
		name = sup->create_full_event_name(g_server->dev, std::string(Tango::EVENT_COMPAT_IDL5) + (kind == 0 ? "change" : "archive"), att.get_name_lower(), false);
		if (zmq_msg_init_size(&fe.name_msg[kind], name.size()) != 0)
			return false;
		std::memcpy(zmq_msg_data(&fe.name_msg[kind]), name.data(), name.size());
		fe.has_name_msg[kind] = true;
	}
	if (fe.call.empty()) {
		// The call info differs between events only in its counter: marshal
		// it once (by cppTango's code) and patch the counter in.
		Tango::ZmqCallInfo ci;
		ci.version = Tango::ZMQ_EVENT_PROT_VERSION;
		ci.ctr = 0;
		ci.call_is_except = false;
		cdrMemoryStream m;
		ci >>= m;
		const char *p = static_cast<const char *>(m.bufPtr());
		fe.call.assign(p, p + m.bufSize());
		fe.ctr_at = sizeof(CORBA::Long); // after the version, both 4-aligned
		if (fe.call.size() < fe.ctr_at + sizeof(CORBA::ULong))
			return false;
	}
	Tango::AttributeValue_5 &av = fe.av;
	av.quality = s.quality;
	av.data_format = st.format == 0 ? Tango::SCALAR : st.format == 1 ? Tango::SPECTRUM : Tango::IMAGE;
	av.data_type = st.type;
	av.time.tv_sec = s.time.tv_sec;
	av.time.tv_usec = s.time.tv_usec;
	av.time.tv_nsec = 0;
	av.r_dim.dim_x = s.dim_x;
	av.r_dim.dim_y = s.dim_y;
	av.w_dim.dim_x = 0;
	av.w_dim.dim_y = 0;
	av.err_list.length(0);

	omni_mutex_lock guard(sup->get_push_mutex());
	zmq::socket_t *sock = sup->*member(PubSock());
	if (!sock || sup->*member(DoubleSend()) != 0)
		return false;
	// Like cppTango: the counter of the event's full name, or 0 if the map
	// has none (cppTango 9.3 files counters under the name without the
	// "#dbase=no" modifier, so a no-database server always sends 0).
	std::map<std::string, unsigned int> &ctrs = sup->*member(EventCtr());
	auto it = ctrs.find(fe.name[kind]);
	char call[64];
	if (fe.call.size() > sizeof(call))
		return false;
	std::memcpy(call, fe.call.data(), fe.call.size());
	CORBA::ULong ctr = it != ctrs.end() ? it->second : 0;
	std::memcpy(call + fe.ctr_at, &ctr, sizeof(ctr)); // native order, as cdrMemoryStream writes
	// cppTango marshals the value after two padding longs and sends it
	// from the second one on, so doubles keep their 8-byte alignment.
	CORBA::Long pad = CORBA::Long(0xDEC0DEC0);
	fe.data.rewindPtrs();
	pad >>= fe.data;
	pad >>= fe.data;
	av >>= fe.data;
	const int one = 1;
	const unsigned char endian = *reinterpret_cast<const unsigned char *>(&one) != 0;
	void *h = static_cast<void *>(*sock);
	zmq_msg_t name;
	zmq_msg_init(&name);
	zmq_msg_copy(&name, &fe.name_msg[kind]);
	if (zmq_msg_send(&name, h, ZMQ_SNDMORE) < 0) {
		zmq_msg_close(&name);
		Tango::Except::throw_exception("API_ZmqFailed", std::string("cannot push ZMQ event: ") + zmq_strerror(zmq_errno()), "push_fast");
	}
	if (zmq_send(h, &endian, 1, ZMQ_SNDMORE) < 0 ||
	    zmq_send(h, call, fe.call.size(), ZMQ_SNDMORE) < 0 ||
	    zmq_send(h, static_cast<const char *>(fe.data.bufPtr()) + sizeof(CORBA::Long), fe.data.bufSize() - sizeof(CORBA::Long), 0) < 0)
		Tango::Except::throw_exception("API_ZmqFailed", std::string("cannot push ZMQ event: ") + zmq_strerror(zmq_errno()), "push_fast");
	if (it != ctrs.end())
		it->second++;
	g_server->fast_pushed++;
	return true;
}

template <typename F>
tg_err *locked(const char *origin, F f)
{
	if (!g_server || !g_server->dev)
		return simple_err("API_NotRunning", "the device server is not running", origin);
	adopt_thread();
	TG_TRY
	Tango::AutoTangoMonitor sync(g_server->dev, true);
	f();
	TG_CATCH(origin)
}

} // namespace

// cppTango calls this (a member it declares and leaves to the server) to
// create the server's classes.
void Tango::DServer::class_factory()
{
	add_class(new GoClass(g_server->class_name));
}

extern "C" {

void tg_value_free(tg_value *v)
{
	std::free(v->data);
	std::free(v->strs);
	v->data = nullptr;
	v->strs = nullptr;
}

tg_err *tg_server_start(uintptr_t handle, const char *class_name, int argc, char **argv)
{
	if (g_server)
		return simple_err("API_AlreadyRunning", "a device server was already started in this process (cppTango allows one)", "tg_server_start");
	g_server = new Server();
	g_server->handle = handle;
	g_server->class_name = class_name;
	std::vector<std::string> args(argv, argv + argc);
	g_server->thread = std::thread(server_main, argc, args);
	std::unique_lock<std::mutex> l(g_server->mu);
	g_server->cv.wait(l, [] { return g_server->ready || g_server->failed; });
	if (g_server->failed) {
		std::string e = g_server->err;
		l.unlock();
		g_server->thread.join();
		return dup_err(e);
	}
	return nullptr;
}

tg_err *tg_attr_add(const char *name, int type, int format, int write_type, long max_x, long max_y)
{
	std::string n(name);
	return locked("tg_attr_add", [&] {
		Tango::AttrWriteType wt = write_type == 1 ? Tango::READ_WRITE : write_type == 2 ? Tango::WRITE : Tango::READ;
		Tango::Attr *a;
		if (format == 0)
			a = new GoAttr<Tango::Attr>(n.c_str(), long(type), wt);
		else if (format == 1)
			a = new GoAttr<Tango::SpectrumAttr>(n.c_str(), long(type), wt, max_x);
		else
			a = new GoAttr<Tango::ImageAttr>(n.c_str(), long(type), wt, max_x, max_y);
		a->set_change_event(true, false);
		a->set_archive_event(true, false);
		AttrState st;
		st.type = type;
		st.format = format;
		st.write_type = write_type;
		st.current = std::make_shared<Snapshot>();
		g_server->attrs[n] = st;
		try {
			g_server->dev->add_attribute(a);
		} catch (...) {
			g_server->attrs.erase(n);
			throw;
		}
	});
}

tg_err *tg_attr_remove(const char *name)
{
	std::string n(name);
	return locked("tg_attr_remove", [&] {
		g_server->dev->remove_attribute(n, true, false);
		g_server->attrs.erase(n);
	});
}

tg_err *tg_attr_set(const char *name, size_t name_len, int has_value, int dim_x, int dim_y, const void *data, size_t len,
		    const char *strs, size_t strs_len, int nstrs, int quality, int64_t time_ns, int push)
{
	std::string n(name, name_len);
	return locked("tg_attr_set", [&] {
		auto it = g_server->attrs.find(n);
		if (it == g_server->attrs.end())
			Tango::Except::throw_exception("API_AttrNotFound", "no attribute " + n, "tg_attr_set");
		AttrState &st = it->second;
		size_t es = elem_size(st.type);
		if (has_value && es && len != size_t(dim_x) * size_t(dim_y ? dim_y : 1) * es)
			Tango::Except::throw_exception("API_WrongSize", "data size does not match the dimensions", "tg_attr_set");
		st.current = make_snapshot(st.type, has_value, dim_x, dim_y, data, len, strs, strs_len, nstrs, quality, time_ns);
		if (push) {
			Tango::Attribute &att = g_server->dev->get_device_attr()->get_attr_by_name(n.c_str());
			if ((push & 1) && !push_fast(att, st, 0)) {
				fill_attribute(att, st);
				att.fire_change_event();
			}
			if ((push & 2) && !push_fast(att, st, 1)) {
				fill_attribute(att, st);
				att.fire_archive_event();
			}
		}
	});
}

void tg_set_fast_events(int on)
{
	locked("tg_set_fast_events", [&] { g_server->fast_events = on != 0; });
}

uint64_t tg_fast_pushed(void)
{
	return g_server ? g_server->fast_pushed.load() : 0;
}

char *tg_event_endpoint(void)
{
	std::string ep;
	try {
		Tango::ZmqEventSupplier *sup = Tango::Util::instance(false)->get_zmq_event_supplier();
		if (sup)
			ep = sup->get_event_endpoint();
	} catch (...) {
	}
	return dup_err(ep);
}

tg_err *tg_cmd_add(const char *name, int in_type, int out_type)
{
	std::string n(name);
	return locked("tg_cmd_add", [&] {
		g_server->dev->add_command(new GoCommand(n.c_str(), Tango::CmdArgType(in_type), Tango::CmdArgType(out_type)), true);
	});
}

tg_err *tg_cmd_remove(const char *name)
{
	std::string n(name);
	return locked("tg_cmd_remove", [&] { g_server->dev->remove_command(n, true, false); });
}

tg_err *tg_set_state(int state)
{
	return locked("tg_set_state", [&] { g_server->dev->set_state(Tango::DevState(state)); });
}

tg_err *tg_set_status(const char *status)
{
	std::string s(status);
	return locked("tg_set_status", [&] { g_server->dev->set_status(s); });
}

// ---- client ----

} // extern "C"

// Event subscriptions and cppTango 9.3. The event consumer keeps one entry
// per event (attribute and event type), shared by every DeviceProxy of the
// process that subscribes to it, and the entry remembers only the proxy that
// created it (EventCallBackStruct::device). The keep-alive thread calls into
// that proxy when it confirms or rebuilds the subscription (a missed
// heartbeat, every 200 s), and ~DeviceProxy unsubscribes every callback of
// the entries naming it, other proxies' included (their events stopped
// silently; their own unsubscribe then failed with API_EventNotFound). When
// another subscription joined such an entry between ~DeviceProxy listing and
// removing its callbacks, the entry outlived the proxy and the keep-alive
// thread later crashed on the freed proxy (SIGSEGV). So a proxy that an
// entry still names is not deleted but parked, and deleted once no entry
// names it; subscribe, unsubscribe and proxy deletion are serialised
// process-wide (g_event_mu) so that no subscription joins an entry between
// that check and the delete.
namespace {

class GoCallBack;

std::mutex g_event_mu;
std::vector<Tango::DeviceProxy *> g_parked; // guarded by g_event_mu

// t_in_callback is set while an event callback runs on this thread: the
// event calls must not block there (the thread holding g_event_mu may be
// waiting in cppTango for that callback to end).
thread_local bool t_in_callback = false;

// named_by_event reports whether an event entry still names dp.
bool named_by_event(Tango::DeviceProxy *dp)
{
	Tango::ZmqEventConsumer *ec = Tango::ApiUtil::instance()->get_zmq_event_consumer();
	if (ec == nullptr)
		return false;
	std::vector<int> ids;
	ec->get_subscribed_event_ids(dp, ids);
	return !ids.empty();
}

// retire deletes dp (when not null) and the parked proxies that no event
// entry names any more; the others stay parked. g_event_mu held.
void retire(Tango::DeviceProxy *dp)
{
	if (dp != nullptr)
		g_parked.push_back(dp);
	for (auto it = g_parked.begin(); it != g_parked.end();) {
		bool named = true;
		try {
			named = named_by_event(*it);
		} catch (...) {
		}
		if (named) {
			++it;
			continue;
		}
		Tango::DeviceProxy *d = *it;
		it = g_parked.erase(it);
		try {
			delete d;
		} catch (...) {
		}
	}
}

// The keep-alive thread's reconnection to a server without database: when
// a heartbeat was missed while the server is up (a loaded machine, or a
// channel left silent), EventConsumerKeepAliveThread::reconnect_to_zmq_channel
// re-subscribes through the channel's admin proxy, deletes that proxy and
// builds a new one from the channel's name, which lacks "#dbase=no": the
// constructor throws (it looks for a database at the server's port) and the
// channel keeps the deleted pointer. cppTango marks the channel failed and
// comes back 10 s later, calling through the freed proxy (SIGSEGV), or an
// Unsubscribe deletes it a second time. The API_EventTimeout error event
// that main_reconnect then pushes to every callback of the channel runs on
// the keep-alive thread, under the event map lock, before either can
// happen: repair_channel puts a working admin proxy in place there.

// EventMaps reaches the event consumer's maps (protected statics); it is
// never instantiated.
struct EventMaps : Tango::EventConsumer {
	static std::map<std::string, Tango::EventChannelStruct> &channels() { return channel_map; }
	static std::map<std::string, Tango::EventCallBackStruct> &callbacks() { return event_callback_map; }
};

// g_repaired: per channel, the admin proxy repair_channel installed and the
// channel's last_heartbeat then (one repair per reconnection round; a later
// round may have freed that proxy in its turn). Keep-alive thread only.
std::map<std::string, std::pair<Tango::DeviceProxy *, time_t>> g_repaired;

// repair_channel runs on the keep-alive thread for an API_EventTimeout
// delivered to cb, holding the consumer's map lock as a reader (writers,
// which delete channels, are excluded; only this thread uses the admin
// proxy meanwhile).
void repair_channel(Tango::CallBack *cb)
{
	const std::string nodb = "#dbase=no";
	std::string name;
	for (auto &e : EventMaps::callbacks()) {
		for (auto &ess : e.second.callback_list)
			if (ess.callback == cb)
				name = e.second.channel_name;
	}
	auto it = EventMaps::channels().find(name);
	if (name.empty() || it == EventMaps::channels().end())
		return;
	Tango::EventChannelStruct &ch = it->second;
	if (ch.channel_type != Tango::ZMQ || !ch.event_system_failed || ch.full_adm_name.empty() ||
	    ch.full_adm_name.find(nodb) != std::string::npos)
		return;
	// The failed round reconnected the channel first, which set
	// last_heartbeat to now; a round that failed earlier (server down)
	// left the proxy alone and last_heartbeat old.
	if (time(nullptr) - ch.last_heartbeat >= Tango::EVENT_HEARTBEAT_PERIOD)
		return;
	auto done = g_repaired.find(name);
	if (done != g_repaired.end() && done->second.first == ch.adm_device_proxy &&
	    done->second.second == ch.last_heartbeat)
		return; // repaired in this round (another callback of the channel)
	try {
		// The old pointer is not deleted: it was freed (or, if a heartbeat
		// came in between, it is a valid proxy that leaks).
		std::string adm = ch.full_adm_name + nodb;
		ch.adm_device_proxy = new Tango::DeviceProxy(adm);
		g_repaired[name] = {ch.adm_device_proxy, ch.last_heartbeat};
		// The next round rebuilds the proxy from this name: with the
		// modifier it finds the server and the channel reconnects.
		ch.full_adm_name = adm;
	} catch (...) {
	}
}

tg_err *in_callback_err(const char *origin)
{
	return simple_err("API_EventCallback", "Tango event subscriptions cannot change inside an event callback", origin);
}

} // namespace

extern "C" {

struct tg_proxy {
	Tango::DeviceProxy *dp;
	std::mutex mu;
	std::map<int, GoCallBack *> cbs;
};

tg_err *tg_proxy_new(const char *trl, tg_proxy **out)
{
	adopt_thread();
	TG_TRY
	std::string t(trl);
	auto *p = new tg_proxy();
	try {
		p->dp = new Tango::DeviceProxy(t);
	} catch (...) {
		delete p;
		throw;
	}
	*out = p;
	TG_CATCH("tg_proxy_new")
}

tg_err *tg_proxy_set_timeout(tg_proxy *p, int ms)
{
	adopt_thread();
	TG_TRY
	p->dp->set_timeout_millis(ms);
	TG_CATCH("tg_proxy_set_timeout")
}

} // extern "C"

namespace {

template <typename T>
void extract_vec(Tango::DeviceAttribute &da, tg_value *v)
{
	std::vector<T> vec;
	da.extract_read(vec);
	set_bytes(v, vec.data(), vec.size() * sizeof(T));
}

void extract_bool(Tango::DeviceAttribute &da, tg_value *v)
{
	std::vector<Tango::DevBoolean> vec;
	da.extract_read(vec);
	std::vector<unsigned char> b(vec.size());
	for (size_t i = 0; i < vec.size(); i++)
		b[i] = vec[i] ? 1 : 0;
	set_bytes(v, b.data(), b.size());
}

// from_attribute converts a DeviceAttribute (read part only) into v.
void from_attribute(Tango::DeviceAttribute &da, tg_value *v)
{
	if (da.has_failed())
		throw Tango::DevFailed(da.get_err_stack());
	v->quality = da.get_quality();
	v->time_ns = int64_t(da.get_date().tv_sec) * 1000000000 + int64_t(da.get_date().tv_usec) * 1000;
	v->type = da.get_type();
	v->format = da.get_data_format() == Tango::SPECTRUM ? 1 : da.get_data_format() == Tango::IMAGE ? 2 : 0;
	Tango::AttributeDimension dim = da.get_r_dimension();
	v->dim_x = dim.dim_x;
	v->dim_y = dim.dim_y;
	da.reset_exceptions(Tango::DeviceAttribute::isempty_flag);
	if (da.is_empty() || v->quality == Tango::ATTR_INVALID) {
		v->has_value = 0;
		return;
	}
	v->has_value = 1;
	switch (v->type) {
	case Tango::DEV_BOOLEAN: extract_bool(da, v); break;
	case Tango::DEV_UCHAR: extract_vec<Tango::DevUChar>(da, v); break;
	case Tango::DEV_SHORT: extract_vec<Tango::DevShort>(da, v); break;
	case Tango::DEV_USHORT: extract_vec<Tango::DevUShort>(da, v); break;
	case Tango::DEV_LONG: extract_vec<Tango::DevLong>(da, v); break;
	case Tango::DEV_ULONG: extract_vec<Tango::DevULong>(da, v); break;
	case Tango::DEV_LONG64: extract_vec<Tango::DevLong64>(da, v); break;
	case Tango::DEV_ULONG64: extract_vec<Tango::DevULong64>(da, v); break;
	case Tango::DEV_FLOAT: extract_vec<Tango::DevFloat>(da, v); break;
	case Tango::DEV_DOUBLE: extract_vec<Tango::DevDouble>(da, v); break;
	case Tango::DEV_STRING: {
		std::vector<std::string> vec;
		da.extract_read(vec);
		join_strs(vec, v);
		break;
	}
	case Tango::DEV_ENCODED: {
		std::string fmt;
		std::vector<unsigned char> data;
		da.extract(fmt, data);
		std::vector<std::string> f{fmt};
		join_strs(f, v);
		set_bytes(v, data.data(), data.size());
		break;
	}
	default:
		Tango::Except::throw_exception("API_IncompatibleAttrDataType",
					       "attribute type " + std::to_string(v->type) + " is not supported", "tg_read");
	}
}

template <typename T>
void insert_vec(Tango::DeviceAttribute &da, int format, int dx, int dy, const void *data, size_t len)
{
	const T *p = static_cast<const T *>(data);
	size_t n = len / sizeof(T);
	if (format == 0) {
		da << (n ? p[0] : T());
		return;
	}
	std::vector<T> vec(p, p + n);
	if (format == 1)
		da.insert(vec, dx, 0);
	else
		da.insert(vec, dx, dy);
}

class GoCallBack : public Tango::CallBack {
public:
	explicit GoCallBack(uintptr_t h) : handle(h) {}
	uintptr_t handle;
	// dead: the Go side has forgotten (or is forgetting) the handle; set
	// before unsubscribing, so a callback cppTango still runs stays in C++.
	std::atomic<bool> dead{false};
	void push_event(Tango::EventData *ed) override
	{
		if (ed->err && ed->errors.length() > 0 &&
		    std::strcmp(ed->errors[0].reason.in(), "API_EventTimeout") == 0 &&
		    std::strstr(ed->errors[0].origin.in(), "KeepAliveThread") != nullptr) {
			try {
				repair_channel(this);
			} catch (...) {
			}
		}
		if (dead.load())
			return;
		struct InCallback {
			bool prev = t_in_callback;
			InCallback() { t_in_callback = true; }
			~InCallback() { t_in_callback = prev; }
		} in_cb;
		std::string attr = ed->attr_name;
		std::string event = ed->event;
		tg_value v{};
		std::string err;
		if (ed->err) {
			char *e = flatten(ed->errors);
			err = e;
			std::free(e);
		} else if (ed->attr_value) {
			try {
				from_attribute(*ed->attr_value, &v);
			} catch (Tango::DevFailed &e) {
				char *f = flatten(e.errors);
				err = f;
				std::free(f);
			}
		}
		goTangoEvent(handle, const_cast<char *>(attr.c_str()), const_cast<char *>(event.c_str()), &v,
			     err.empty() ? nullptr : const_cast<char *>(err.c_str()));
		tg_value_free(&v);
	}
};

} // namespace

extern "C" {

tg_err *tg_read(tg_proxy *p, const char *attr, tg_value *out)
{
	adopt_thread();
	TG_TRY
	std::string a(attr);
	Tango::DeviceAttribute da = p->dp->read_attribute(a);
	from_attribute(da, out);
	TG_CATCH("tg_read")
}

tg_err *tg_attr_info(tg_proxy *p, const char *attr, int *type, int *format, int *write_type)
{
	adopt_thread();
	TG_TRY
	std::string a(attr);
	Tango::AttributeInfoEx info = p->dp->get_attribute_config(a);
	*type = info.data_type;
	*format = info.data_format == Tango::SPECTRUM ? 1 : info.data_format == Tango::IMAGE ? 2 : 0;
	*write_type = info.writable == Tango::READ_WRITE ? 1 : info.writable == Tango::WRITE ? 2 : info.writable == Tango::READ ? 0 : 3;
	TG_CATCH("tg_attr_info")
}

tg_err *tg_write(tg_proxy *p, const char *attr, int type, int format, int dim_x, int dim_y,
		 const void *data, size_t len, const char *strs, size_t strs_len, int nstrs)
{
	adopt_thread();
	TG_TRY
	Tango::DeviceAttribute da;
	da.set_name(attr);
	switch (type) {
	case Tango::DEV_BOOLEAN: {
		const unsigned char *b = static_cast<const unsigned char *>(data);
		if (format == 0) {
			da << static_cast<Tango::DevBoolean>(len && b[0]);
		} else {
			std::vector<Tango::DevBoolean> vec(b, b + len);
			if (format == 1)
				da.insert(vec, dim_x, 0);
			else
				da.insert(vec, dim_x, dim_y);
		}
		break;
	}
	case Tango::DEV_UCHAR: insert_vec<Tango::DevUChar>(da, format, dim_x, dim_y, data, len); break;
	case Tango::DEV_SHORT: insert_vec<Tango::DevShort>(da, format, dim_x, dim_y, data, len); break;
	case Tango::DEV_USHORT: insert_vec<Tango::DevUShort>(da, format, dim_x, dim_y, data, len); break;
	case Tango::DEV_LONG: insert_vec<Tango::DevLong>(da, format, dim_x, dim_y, data, len); break;
	case Tango::DEV_ULONG: insert_vec<Tango::DevULong>(da, format, dim_x, dim_y, data, len); break;
	case Tango::DEV_LONG64: insert_vec<Tango::DevLong64>(da, format, dim_x, dim_y, data, len); break;
	case Tango::DEV_ULONG64: insert_vec<Tango::DevULong64>(da, format, dim_x, dim_y, data, len); break;
	case Tango::DEV_FLOAT: insert_vec<Tango::DevFloat>(da, format, dim_x, dim_y, data, len); break;
	case Tango::DEV_DOUBLE: insert_vec<Tango::DevDouble>(da, format, dim_x, dim_y, data, len); break;
	case Tango::DEV_STRING: {
		std::vector<std::string> ss;
		split_strs(strs, strs_len, nstrs, ss);
		if (format == 0) {
			std::string one = ss.empty() ? std::string() : ss[0];
			da << one;
		}
		else if (format == 1)
			da.insert(ss, dim_x, 0);
		else
			da.insert(ss, dim_x, dim_y);
		break;
	}
	case Tango::DEV_ENCODED: {
		std::vector<std::string> f;
		split_strs(strs, strs_len, 1, f);
		std::vector<unsigned char> d(static_cast<const unsigned char *>(data),
					     static_cast<const unsigned char *>(data) + len);
		da.insert(f[0], d);
		break;
	}
	default:
		return simple_err("API_IncompatibleAttrDataType", "unsupported attribute type " + std::to_string(type), "tg_write");
	}
	p->dp->write_attribute(da);
	TG_CATCH("tg_write")
}

tg_err *tg_command(tg_proxy *p, const char *cmd, int has_arg, const char *arg, tg_value *out)
{
	adopt_thread();
	TG_TRY
	std::string c(cmd);
	Tango::DeviceData in, res;
	if (has_arg) {
		std::string a(arg);
		in << a;
		res = p->dp->command_inout(c, in);
	} else {
		res = p->dp->command_inout(c);
	}
	out->format = 0;
	out->quality = Tango::ATTR_VALID;
	res.reset_exceptions(Tango::DeviceData::isempty_flag);
	if (res.is_empty()) {
		out->type = Tango::DEV_VOID;
		return nullptr;
	}
	out->type = res.get_type();
	out->has_value = 1;
	out->dim_x = 1;
	switch (out->type) {
	case Tango::DEV_STRING: {
		std::string s;
		res >> s;
		std::vector<std::string> v{s};
		join_strs(v, out);
		break;
	}
	case Tango::DEV_BOOLEAN: {
		bool b;
		res >> b;
		unsigned char c1 = b ? 1 : 0;
		set_bytes(out, &c1, 1);
		break;
	}
	case Tango::DEV_DOUBLE: { Tango::DevDouble d; res >> d; set_bytes(out, &d, 8); break; }
	case Tango::DEV_LONG: { Tango::DevLong d; res >> d; set_bytes(out, &d, 4); break; }
	case Tango::DEV_LONG64: { Tango::DevLong64 d; res >> d; set_bytes(out, &d, 8); break; }
	case Tango::DEV_STATE: {
		Tango::DevState s;
		res >> s;
		int32_t i = static_cast<int32_t>(s);
		set_bytes(out, &i, 4);
		break;
	}
	default:
		return simple_err("API_IncompatibleCmdArgumentType",
				  "command result type " + std::to_string(out->type) + " is not supported", "tg_command");
	}
	TG_CATCH("tg_command")
}

tg_err *tg_subscribe(tg_proxy *p, const char *attr, int event_type, int stateless, uintptr_t handle, int *id)
{
	adopt_thread();
	if (t_in_callback)
		return in_callback_err("tg_subscribe");
	std::lock_guard<std::mutex> g(g_event_mu);
	TG_TRY
	std::string a(attr);
	auto *cb = new GoCallBack(handle);
	int i;
	try {
		std::vector<std::string> filters;
		i = p->dp->subscribe_event(a, Tango::EventType(event_type), cb, filters, stateless != 0);
	} catch (...) {
		delete cb;
		throw;
	}
	{
		std::lock_guard<std::mutex> l(p->mu);
		p->cbs[i] = cb;
	}
	*id = i;
	TG_CATCH("tg_subscribe")
}

tg_err *tg_unsubscribe(tg_proxy *p, int id)
{
	adopt_thread();
	GoCallBack *cb = nullptr;
	{
		std::lock_guard<std::mutex> l(p->mu);
		auto it = p->cbs.find(id);
		if (it != p->cbs.end())
			cb = it->second;
	}
	if (cb != nullptr)
		cb->dead = true;
	if (t_in_callback)
		return in_callback_err("tg_unsubscribe"); // tg_proxy_delete unsubscribes it
	std::lock_guard<std::mutex> g(g_event_mu);
	TG_TRY
	p->dp->unsubscribe_event(id);
	// No callback runs any more: cppTango runs them holding its map lock,
	// which unsubscribe_event took.
	{
		std::lock_guard<std::mutex> l(p->mu);
		p->cbs.erase(id);
	}
	delete cb;
	retire(nullptr);
	TG_CATCH("tg_unsubscribe")
}

void tg_proxy_delete(tg_proxy *p)
{
	adopt_thread();
	if (t_in_callback) {
		// g_event_mu may be held by a thread waiting for this callback.
		std::thread([p] { tg_proxy_delete(p); }).detach();
		return;
	}
	std::lock_guard<std::mutex> g(g_event_mu);
	for (auto &kv : p->cbs) {
		kv.second->dead = true;
		bool done = false;
		try {
			p->dp->unsubscribe_event(kv.first);
			done = true;
		} catch (...) {
		}
		// A callback cppTango may still hold stays allocated (and dead).
		if (done)
			delete kv.second;
	}
	p->cbs.clear();
	retire(p->dp);
	delete p;
}

} // extern "C"

extern "C" void tg_quick_exit(int code)
{
	std::fflush(nullptr);
	_exit(code);
}
