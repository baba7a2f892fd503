#!/usr/bin/env bash
# goodbot's whole test suite: go vet and go test -race against a real
# redis-server on a free loopback port. Installs what it needs on a fresh
# Debian machine, and stops what it started.
set -euo pipefail
cd "$(dirname "$0")"

log() { printf 'test.sh: %s\n' "$*" >&2; }

if ! command -v go >/dev/null 2>&1; then
	log "Go is not installed (https://go.dev/doc/install)"
	exit 1
fi

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
	log "installing redis-server"
	SUDO=""
	[ "$(id -u)" -ne 0 ] && SUDO="sudo"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >/dev/null
fi
# The Debian package may start a system service; the tests do not use it.

# The RFC 3161 tests run a real TSA: openssl ts -reply.
if ! command -v openssl >/dev/null 2>&1; then
	log "installing openssl"
	SUDO=""
	[ "$(id -u)" -ne 0 ] && SUDO="sudo"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq openssl >/dev/null
fi

workdir=$(mktemp -d)
redis_pid=""
cleanup() {
	if [ -n "$redis_pid" ] && kill -0 "$redis_pid" 2>/dev/null; then
		kill "$redis_pid" 2>/dev/null || true
		wait "$redis_pid" 2>/dev/null || true
	fi
	rm -rf "$workdir"
}
trap cleanup EXIT INT TERM

# A free loopback port: try random ones until redis-server starts on one.
port=""
for _ in $(seq 1 20); do
	p=$((20000 + RANDOM % 40000))
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		continue # something listens there
	fi
	redis-server --bind 127.0.0.1 --port "$p" --save '' --appendonly no \
		--dir "$workdir" --daemonize no --protected-mode yes \
		>"$workdir/redis.log" 2>&1 &
	redis_pid=$!
	for _ in $(seq 1 50); do
		if redis-cli -h 127.0.0.1 -p "$p" ping >/dev/null 2>&1; then
			port=$p
			break
		fi
		kill -0 "$redis_pid" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$port" ] && break
	kill "$redis_pid" 2>/dev/null || true
	wait "$redis_pid" 2>/dev/null || true
	redis_pid=""
done
if [ -z "$port" ]; then
	log "could not start redis-server:"
	cat "$workdir/redis.log" >&2 || true
	exit 1
fi
export GOODBOT_REDIS_ADDR="127.0.0.1:$port"
log "redis-server $(redis-server --version | awk '{print $3}') on $GOODBOT_REDIS_ADDR"

# warcio.js (webrecorder's WARC parser, from npm) checks the evidence
# bundle's WARC in cmd/goodbot's tests; without npm or the registry those
# tests check it with their own reader only.
warcio_dir="${XDG_CACHE_HOME:-$HOME/.cache}/goodbot-test/warcio-2.4.11"
if [ ! -d "$warcio_dir/node_modules/warcio" ] && command -v npm >/dev/null 2>&1; then
	log "installing warcio.js into $warcio_dir"
	mkdir -p "$warcio_dir"
	timeout 300 npm install --prefix "$warcio_dir" --no-audit --no-fund --silent warcio@2.4.11 >/dev/null 2>&1 ||
		log "could not install warcio.js; the WARC is checked by the tests' own reader only"
fi
if [ -d "$warcio_dir/node_modules/warcio" ] && command -v node >/dev/null 2>&1; then
	export GOODBOT_WARCIO_DIR="$warcio_dir"
fi

# Headless Chromium, a CJK font and pdftotext print the evidence report to
# PDF in audit/evidence's tests (TestReportPrintsWhole); they are a large
# download, so a slow or failed install leaves that test skipping.
if ! command -v chromium >/dev/null 2>&1 || ! command -v pdftotext >/dev/null 2>&1; then
	log "installing chromium, fonts-noto-cjk and poppler-utils (up to 5 minutes)"
	SUDO=""
	[ "$(id -u)" -ne 0 ] && SUDO="sudo"
	timeout 300 bash -c "$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-noto-cjk poppler-utils >/dev/null" ||
		log "could not install them; the report's PDF test skips"
fi

log "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	log "not gofmt-clean: $unformatted"
	exit 1
fi

log "go vet ./..."
go vet ./...

# The tests run with a home directory of their own, so that none of them
# reads or writes the user's goodbot keys or data (~/.config/goodbot,
# ~/.local/share/goodbot); Go's caches stay where they are.
export GOPATH="$(go env GOPATH)" GOCACHE="$(go env GOCACHE)" GOMODCACHE="$(go env GOMODCACHE)"
test_home="$(mktemp -d)"
export HOME="$test_home" XDG_CONFIG_HOME="$test_home/.config" XDG_DATA_HOME="$test_home/.local/share" XDG_CACHE_HOME="$test_home/.cache"

log "go test -race ./..."
go test -race -count=1 -timeout 15m ./...
rm -rf "$test_home"
