#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine: the real
# servers the tests start on free loopback ports (redis-server, etcd, an
# Apache Kafka broker run by java from the jars scripts/kafka.sh fetches
# from Maven Central), the interop peer kcat, and the headless browser of
# the web page's end-to-end test. Safe to run repeatedly;
# installs only what is missing. Run as root (CI and the dev machines are).
set -euo pipefail

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v etcd >/dev/null 2>&1 || need_apt+=(etcd-server)
command -v kcat >/dev/null 2>&1 || need_apt+=(kcat)
# Kafka 4.x needs Java 17 or newer; Debian 12's default JRE is 17.
command -v java >/dev/null 2>&1 || need_apt+=(default-jre-headless)
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
# The tango package (build tag tango) links Debian's cppTango 9.3 and is
# tested against Debian's pytango, which lives in /usr/bin/python3.
pkg-config --exists tango 2>/dev/null || need_apt+=(libtango-dev pkg-config)
/usr/bin/python3 -c 'import tango' >/dev/null 2>&1 || need_apt+=(python3-tango)

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "deps: installing ${need_apt[*]} from Debian" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  # The package starts a system redis on 6379; the tests start their own
  # servers and must not depend on it.
  (service redis-server stop || systemctl stop redis-server || true) >/dev/null 2>&1
  # Likewise etcd-server starts a system etcd on 2379/2380 (where an init
  # system runs it); the tests start their own on free ports.
  (service etcd stop || systemctl stop etcd || true) >/dev/null 2>&1
  (systemctl disable etcd || update-rc.d etcd disable || true) >/dev/null 2>&1
fi
redis-server --version >&2
etcd --version | sed -n 1p >&2
kcat -V 2>&1 | sed -n 1p >&2
java -version 2>&1 | sed -n 1p >&2
echo "cppTango $(pkg-config --modversion tango), pytango $(/usr/bin/python3 -c 'import tango; print(tango.__version__)')" >&2
echo "deps: Kafka jars in $("$(dirname "$0")/kafka.sh")" >&2
chromium --version >&2
