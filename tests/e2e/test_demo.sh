#!/bin/sh
# `make demo` without a terminal, then what it stored, read back through
# tracecli --json: every trace crosses the four services with correct
# parent/child links across process boundaries, the fan-out is parallel, the
# retry is visible, the slow path is the top of `tracecli slow`, and error
# spans carry their exception events.
. tests/e2e/lib.sh

COUNT=300
# Which orders do what (examples/shop/shop.h): n % 20 == 7 slow,
# n % 10 == 3 retried payment, n % 25 == 13 declined card.
DECLINED=$(awk -v n=$COUNT 'BEGIN { c = 0; for (i = 1; i <= n; i++)
	if (i % 25 == 13) c++; print c }')

# --- the demo itself, as `make demo` runs it, off a terminal
TMPDIR="$TMP" DEMO_DB="$TMP/demo-db" DEMO_COUNT=$COUNT \
	sh examples/demo.sh "$BUILD" >"$TMP/demo.out" 2>&1 </dev/null
rc=$?
check_eq "demo.sh runs to the end without a terminal" "$rc" 0
if [ "$rc" -ne 0 ]; then
	sed 's/^/    demo| /' "$TMP/demo.out"
	finish
fi
check "demo: all $COUNT requests answered" \
	grep -q "load: $COUNT requests .* 0 lost" "$TMP/demo.out"
check "demo: prints tracecli slow" grep -q '^\$ tracecli slow' "$TMP/demo.out"
check "demo: prints the slowest waterfall down to the slow query" \
	grep -q 'SELECT stock' "$TMP/demo.out"
check "demo: prints a failed checkout" grep -q 'authorize-card' "$TMP/demo.out"
check "demo: leaves no shop process behind" \
	sh -c "! pgrep -f '$TMP/[t]race-demo' >/dev/null"

# --- what it stored, served by a collector of our own on the same store
start_collector demo || { fail "collector reopens the demo store"; finish; }
CLI="$BIN/tracecli --collector $COLL_QUERY"

# jq 1.6 reads numbers as doubles, which cannot hold a nanosecond time
# exactly: quote every integer of 16 digits or more before jq sees it.
bigints() { sed -E 's/(": *)([0-9]{16,})/\1"\2"/g'; }

# cli FILE ARGS...: run tracecli ARGS --json into FILE; returns its status.
cli() {
	out=$1
	shift
	$CLI "$@" --json >"$out.raw" 2>"$out.err"
	rc=$?
	bigints <"$out.raw" >"$out"
	return $rc
}

# jq helpers: kind and status as lower-case names, whatever the encoding
# (2, "server", "SPAN_KIND_SERVER"; 2, "error", {"code": ...}).
JQDEFS='
def kindname: .kind
  | if type == "number" then
      ["unspecified","internal","server","client","producer","consumer"][.]
    else ascii_downcase | sub("span_kind_"; "") end;
def statusname: .status
  | if type == "object" then .code else . end
  | if type == "number" then ["unset","ok","error"][.]
    elif . == null then "unset"
    else ascii_downcase | sub("status_code_"; "") end;
def attr($k): .attributes[$k];
'
jqf() { jq -r "$JQDEFS $1" "$2"; }

# trace_of ORDER: the trace id of the checkout of that order number.
trace_of() {
	cli "$TMP/order-$1.json" search --attr "app.order.id=$1" --limit 5 &&
		jq -r '.[0].trace_id // empty' "$TMP/order-$1.json"
}

$CLI services >"$TMP/services.txt" 2>&1
check_eq "tracecli services exits 0" "$?" 0
for s in gateway orders inventory payments; do
	check "services lists $s" grep -qw "$s" "$TMP/services.txt"
done

cli "$TMP/all.json" search --service gateway --limit 1000
check_eq "search --json exits 0" "$?" 0
check_eq "one trace per request" "$(jq length "$TMP/all.json")" "$COUNT"
check_eq "every trace is rooted at the gateway" \
	"$(jq '[.[] | select(.root_service != "gateway")] | length' \
		"$TMP/all.json")" 0
check_eq "every trace crosses all four services" \
	"$(jq '[.[] | select((.services | sort) !=
		["gateway","inventory","orders","payments"])] | length' \
		"$TMP/all.json")" 0
check_eq "every trace has at least 15 spans" \
	"$(jq '[.[] | select(.span_count < 15)] | length' "$TMP/all.json")" 0

# links FILE: the number of broken cross-process links in a shown trace.
# A SERVER span of orders, inventory or payments must have as parent a
# CLIENT span of its caller with the same RPC name; the gateway's SERVER
# span is the only root; every other parent exists in the trace.
LINKS='
{"orders": "gateway", "inventory": "orders", "payments": "orders"} as $caller
| .spans as $s
| ([$s[] | select((.parent_span_id // "") | test("^0*$"))]) as $roots
| ([$s[] | select(kindname == "server" and .service != "gateway")
    | . as $srv
    | select([$s[] | select(.span_id == $srv.parent_span_id
        and kindname == "client" and .name == $srv.name
        and .service == $caller[$srv.service])] | length != 1)] | length)
  + ([$s[] | select((.parent_span_id // "") | test("^0*$") | not)
    | . as $c | select([$s[] | select(.span_id == $c.parent_span_id)]
        | length != 1)] | length)
  + (if ($roots | length) == 1 and $roots[0].service == "gateway"
       and ($roots[0] | kindname) == "server" then 0 else 1 end)
'
for n in 1 2 3 7 13; do
	id=$(trace_of $n)
	if [ -z "$id" ]; then
		fail "order $n: found by --attr app.order.id=$n"
		continue
	fi
	cli "$TMP/t$n.json" show "$id"
	check_eq "order $n: show --json exits 0" "$?" 0
	check_eq "order $n: trace_id" "$(jq -r .trace_id "$TMP/t$n.json")" "$id"
	check_eq "order $n: parent/child links across processes" \
		"$(jqf "$LINKS" "$TMP/t$n.json")" 0
	check_eq "order $n: one SERVER span per service" \
		"$(jqf '[.spans[] | select(kindname == "server") | .service]
			| unique | join(",")' "$TMP/t$n.json")" \
		"gateway,inventory,orders,payments"
done

# The two calls of orders' fan-out overlap in time. (Both are in flight
# before either reply, but a starved CPU could still delay the second
# start past the first reply, so ask it of most traces, not all.)
FANOUT='[.spans[] | select(.service == "orders" and kindname == "client")]
	| (map(select(.name == "shop.Inventory/Reserve")) | .[0]) as $i
	| (map(select(.name == "shop.Payments/Charge"))
	   | sort_by(.start_unix_nano) | .[0]) as $p
	| $i != null and $p != null
	  and $i.start_unix_nano < $p.end_unix_nano
	  and $p.start_unix_nano < $i.end_unix_nano'
overlap=0
for n in 1 2 3 7 13; do
	[ "$(jqf "$FANOUT" "$TMP/t$n.json" 2>/dev/null)" = true ] &&
		overlap=$((overlap + 1))
done
check "inventory and payments are called in parallel ($overlap of 5)" \
	test "$overlap" -ge 3
check_eq "order 1: the database span follows the conventions" \
	"$(jqf '[.spans[] | select(.service == "inventory"
		and .name == "SELECT stock" and kindname == "client"
		and attr("db.system.name") == "postgresql"
		and (attr("db.query.text") | startswith("SELECT")))] | length' \
		"$TMP/t1.json")" 1
check_eq "order 1: RPC spans carry rpc.system.name and server.address" \
	"$(jqf '[.spans[] | select(kindname == "server" or (kindname ==
		"client" and (.name | startswith("shop."))))
		| select(attr("rpc.system.name") != "nng"
			or (attr("server.address") // "") == "")] | length' \
		"$TMP/t1.json")" 0
check_eq "order 1: no error" \
	"$(jqf '[.spans[] | select(statusname == "error")] | length' \
		"$TMP/t1.json")" 0

# Order 3: the first charge fails with a transient error and is retried.
check_eq "order 3: two charge attempts, the first failed, the second ok" \
	"$(jqf '[.spans[] | select(.service == "orders"
		and .name == "shop.Payments/Charge")]
		| sort_by(.start_unix_nano)
		| map(statusname + ":" + (attr("error.type") // "-")
			+ ":" + (attr("app.rpc.attempt") // 1 | tostring))
		| join(" ")' "$TMP/t3.json")" \
	"error:shop.LedgerUnavailableError:1 unset:-:2"
check_eq "order 3: orders records a retry event" \
	"$(jqf '[.spans[] | select(.service == "orders" and kindname ==
		"server") | .events[] | select(.name == "retry")] | length' \
		"$TMP/t3.json")" 1
check_eq "order 3: the checkout still succeeds" \
	"$(jqf '.spans[] | select(.service == "gateway"
		and kindname == "server") | statusname' "$TMP/t3.json")" unset

# --- the slow path is what `tracecli slow` finds first
cli "$TMP/slow.json" slow --top 10
check_eq "slow --json exits 0" "$?" 0
top=$(jq -r '.spans[0].trace_id' "$TMP/slow.json")
check "slow: has percentiles" \
	test "$(jq '.percentiles | length' "$TMP/slow.json")" -gt 0
cli "$TMP/top.json" show "$top"
check_eq "slow: the top trace is a slow order (n % 20 == 7)" \
	"$(jqf '.spans[] | select(.service == "gateway" and kindname ==
		"server") | attr("app.order.id") | tonumber % 20' \
		"$TMP/top.json")" 7
check_eq "slow: its time goes to inventory's SELECT stock (>= 250 ms)" \
	"$(jqf '[.spans[] | select(.service == "inventory"
		and .name == "SELECT stock"
		and (.duration_ns | tonumber) >= 250000000)] | length' \
		"$TMP/top.json")" 1
check_eq "slow: the top span is at least 250 ms" \
	"$(jq '.spans[0].duration_ns | tonumber >= 250000000' \
		"$TMP/slow.json")" true
cli "$TMP/slow-inv.json" slow --service inventory --top 1
check_eq "slow --service inventory: top is in a slow order" \
	"$(jq -r '.spans[0].trace_id' "$TMP/slow-inv.json" | while read -r t; do
		cli "$TMP/inv-top.json" show "$t"
		jqf '.spans[] | select(.service == "gateway" and kindname ==
			"server") | attr("app.order.id") | tonumber % 20' \
			"$TMP/inv-top.json"
	done)" 7

# --- errors: every error span carries its exception event
cli "$TMP/declined.json" search --attr error.type=shop.CardDeclinedError \
	--limit 1000
check_eq "declined checkouts found by error.type" \
	"$(jq length "$TMP/declined.json")" "$DECLINED"
cli "$TMP/errors.json" search --errors --limit 1000
check "search --errors finds the failed traces" \
	test "$(jq length "$TMP/errors.json")" -ge "$DECLINED"
bad=0 nerr=0
for t in $(jq -r '.[].trace_id' "$TMP/declined.json" "$TMP/errors.json" |
	sort -u); do
	cli "$TMP/e.json" show "$t" || { bad=$((bad + 1)); continue; }
	n=$(jqf '[.spans[] | select(statusname == "error")] | length' \
		"$TMP/e.json")
	b=$(jqf '[.spans[] | select(statusname == "error")
		| select([.events[]? | select(.name == "exception"
			and ((.attributes["exception.type"] // "") != "")
			and ((.attributes["exception.message"] // "") != ""))]
			| length < 1)] | length' "$TMP/e.json")
	nerr=$((nerr + ${n:-0}))
	bad=$((bad + ${b:-1}))
done
check "error traces have error spans ($nerr)" test "$nerr" -gt 0
check_eq "every error span has an exception event with type and message" \
	"$bad" 0
check_eq "order 13: the card network's span says why" \
	"$(jqf '.spans[] | select(.service == "payments"
		and .name == "authorize-card") | .events[]
		| select(.name == "exception")
		| .attributes["exception.type"]' "$TMP/t13.json")" \
	shop.CardDeclinedError
check_eq "order 13: the checkout fails at the gateway" \
	"$(jqf '.spans[] | select(.service == "gateway" and kindname ==
		"server") | statusname + " " + attr("error.type")' \
		"$TMP/t13.json")" "error shop.CardDeclinedError"

finish
