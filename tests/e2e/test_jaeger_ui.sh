#!/bin/sh
# The real Jaeger UI builds (../shared/jaeger-ui: v1.76.0, which speaks the
# API generation Grafana uses, and v2.19.0, which searches through
# /api/v3) served by tracecollector --ui-dir and driven by Debian's
# headless chromium against spans seeded over OTLP/HTTP: the search page
# lists the seeded traces with their span and error counts, and the trace
# page shows every span's service and operation.
# JAEGER_UI_DIR overrides where the builds are (default ../shared/jaeger-ui
# beside the repository). Skips, saying why, when chromium or the builds
# are missing.
. tests/e2e/lib.sh
. tests/e2e/otlp_lib.sh

UI_ROOT=${JAEGER_UI_DIR:-../shared/jaeger-ui}
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	skip "chromium is not installed (apt-get install chromium): no browser test"
	finish
fi
for tool in curl jq; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip "$tool is not installed"
		finish
	fi
done

SEED=tests/e2e/fixtures/jaeger/seed.json
T1=83a9efd15c1c98a977e0711cc93ee28b
T2=a1b2c3d4e5f60718
T0_US=1767225600000000
START=$((T0_US - 60000000)) END=$((T0_US + 60000000))

# browse URL OUT: the DOM of URL once the page has settled, in OUT. Its
# own profile, so that parallel runs do not share one; as root chromium
# needs --no-sandbox.
browse() {
	timeout 90 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu \
		--user-data-dir="$TMP/chromium-profile" --window-size=1400,900 \
		--virtual-time-budget=15000 --dump-dom "$1" >"$2" 2>>"$TMP/chromium.log"
}

# has FILE TEXT...: FILE holds every TEXT.
has() {
	f=$1; shift
	for t in "$@"; do
		grep -qF -- "$t" "$f" || { echo "missing: $t" >&2; return 1; }
	done
}

# ui_suite VERSION T2_LINK: one collector serving dist-VERSION.
ui_suite() {
	v=$1 t2_link=$2 dist="$UI_ROOT/dist-$1"
	if [ ! -f "$dist/index.html" ]; then
		skip "$v: no Jaeger UI build at $dist"
		return
	fi
	start_otlp_collector "ui-$v" --retention 0 --jaeger-http 127.0.0.1:0 \
		--ui-dir "$dist" ||
		{ fail "$v: collector starts with --ui-dir"; return; }
	j="http://$(sed -n 's/^jaeger_http=//p' "$TMP/ui-$v.ready")"
	check_eq "$v: seed spans accepted" \
		"$(post "$SEED" application/json)" 200

	browse "$j/search?service=frontend&start=$START&end=$END&lookback=custom&limit=20" \
		"$TMP/search-$v.html"
	check "$v: search page links both seeded traces" has "$TMP/search-$v.html" \
		"href=\"/trace/$T1\"" "href=\"/trace/$t2_link\""
	check "$v: search page shows span counts and the error" \
		has "$TMP/search-$v.html" "5 Spans" "2 Spans" "1 Error"

	browse "$j/trace/$T1" "$TMP/trace1-$v.html"
	check "$v: trace page shows every span's service and operation" \
		has "$TMP/trace1-$v.html" frontend cart "GET /cart" "call cart" \
		GetCart "redis GET" render
	browse "$j/trace/$t2_link" "$TMP/trace2-$v.html"
	check "$v: the 64-bit trace's page shows its spans" \
		has "$TMP/trace2-$v.html" frontend worker "publish order" \
		"consume order"
	stop_pid "$COLL_PID"
}

ui_suite v1.76.0 "$T2"
ui_suite v2.19.0 "0000000000000000$T2"
[ "$T_FAILED" -eq 0 ] || tail -20 "$TMP/chromium.log"
finish
