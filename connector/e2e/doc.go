// Package e2e holds the queue connector's end-to-end tests and nothing else:
// every shared example configuration run through a real connector.Device with
// the Kafka and telstate kinds registered (as `sdp connector run` builds it),
// against kfake and a real Kafka broker, and reconfiguration under load
// through Kafka. It lives apart from package connector because it needs the
// transport packages, which import connector.
package e2e
