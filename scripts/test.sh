#!/usr/bin/env bash
# Runs sigtrail's whole test suite on a fresh Debian machine with Go:
# installs what the tests need (Chromium for the browser tests, curl for the
# README's start loop, OpenSSL for the independent signature check,
# PostgreSQL for the postgres store and the replica tests, which start a
# throwaway server unless
# SIGTRAIL_TEST_POSTGRES_URL names one), then gofmt, go vet and go test -race.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v npm >/dev/null 2>&1 || need+=(npm) # for axe-core, the console's accessibility check
if [ -z "${SIGTRAIL_TEST_POSTGRES_URL:-}" ] && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
	need+=(postgresql)
fi
if ((${#need[@]})); then
	if [ "$(id -u)" = 0 ]; then
		echo "installing ${need[*]}"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
	else
		echo "missing ${need[*]}: run as root or install them (tests that need them will be skipped)" >&2
	fi
fi

# One throwaway PostgreSQL for every package that needs one (the postgres
# store, the replica and outage tests), unless the caller named a server:
# initdb into a temporary directory (as the postgres user when root), a free
# port on 127.0.0.1 only, stopped and removed when this script exits.
start_postgres() {
	local bin tmp port
	bin=$(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -1)
	[ -n "$bin" ] || return 0
	bin=$(dirname "$bin")
	tmp=$(mktemp -d /tmp/sigtrail-test-pg.XXXXXX)
	local as=()
	if [ "$(id -u)" = 0 ]; then
		chown postgres "$tmp"
		as=(runuser -u postgres --)
	fi
	echo "starting a throwaway PostgreSQL ($bin) in $tmp"
	"${as[@]}" "$bin/initdb" -D "$tmp/data" -A trust -U postgres -E UTF8 --no-sync >"$tmp/initdb.log" 2>&1 ||
		{ cat "$tmp/initdb.log" >&2; return 1; }
	for _ in 1 2 3 4 5; do
		port=$((20000 + RANDOM % 40000))
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue # taken
		if "${as[@]}" "$bin/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 30 \
			-o "-c listen_addresses=127.0.0.1 -p $port -k $tmp -c max_connections=400" start >/dev/null; then
			pg_stop=("${as[@]}" "$bin/pg_ctl" -D "$tmp/data" -m immediate stop)
			pg_tmp=$tmp
			trap stop_postgres EXIT
			export SIGTRAIL_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
			echo "PostgreSQL listening on 127.0.0.1:$port"
			return 0
		fi
	done
	cat "$tmp/server.log" >&2
	return 1
}

# stop_postgres keeps the script's exit status: it only cleans up.
stop_postgres() {
	local status=$?
	"${pg_stop[@]}" >/dev/null 2>&1 || true
	rm -rf "$pg_tmp"
	exit "$status"
}

# axe-core, the accessibility engine the console's browser test runs in
# Chromium, comes from the npm registry at a pinned version into a cache
# (not vendored: 650 KB of minified third-party code); the test reads it
# from SIGTRAIL_AXE_JS and fails under CI=true when it is missing.
axe_version=4.14.1
axe_dir="${XDG_CACHE_HOME:-$HOME/.cache}/sigtrail/axe-core-$axe_version"
if [ -z "${SIGTRAIL_AXE_JS:-}" ]; then
	if [ ! -f "$axe_dir/node_modules/axe-core/axe.min.js" ] && command -v npm >/dev/null 2>&1; then
		echo "installing axe-core $axe_version (npm) into $axe_dir"
		mkdir -p "$axe_dir"
		npm install --silent --no-audit --no-fund --prefix "$axe_dir" "axe-core@$axe_version" >/dev/null
	fi
	if [ -f "$axe_dir/node_modules/axe-core/axe.min.js" ]; then
		export SIGTRAIL_AXE_JS="$axe_dir/node_modules/axe-core/axe.min.js"
	fi
fi

echo "checking formatting (gofmt)"
unformatted=$(gofmt -l cmd internal e2e)
if [ -n "$unformatted" ]; then
	echo "gofmt needed on:" >&2
	echo "$unformatted" >&2
	exit 1
fi
echo "go vet ./..."
go vet ./...
if [ -z "${SIGTRAIL_TEST_POSTGRES_URL:-}" ]; then
	start_postgres
fi
echo "go test -race ./... (the first run builds the race-enabled packages for a few minutes)"
go test -race -count=1 -timeout 30m "$@" ./...
