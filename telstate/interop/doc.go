// Package interop holds sdpkit's interoperability tests against the real
// Python katsdptelstate (from PyPI, in the virtualenv scripts/peers.sh
// makes). It has no non-test code.
package interop
