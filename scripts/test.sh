#!/usr/bin/env bash
# Runs sigtrail's whole test suite on a fresh Debian machine with Go:
# installs what the tests need (Chromium for the browser tests, OpenSSL for
# the independent signature check, PostgreSQL for the postgres store and the
# replica tests, which start a throwaway server unless
# SIGTRAIL_TEST_POSTGRES_URL names one), then gofmt, go vet and go test -race.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
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

unformatted=$(gofmt -l cmd internal)
if [ -n "$unformatted" ]; then
	echo "gofmt needed on:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
go test -race -count=1 -timeout 30m "$@" ./...
