#!/bin/sh
# The interactive waterfall and the tui, driven through tmux (private
# server socket) against a real collector: rows and bars, collapse, detail
# pane, critical path, next error, search, resize to 80x24 and back,
# escape-injection strings rendered inert, -n, SIGTERM, and the tui's
# form -> list -> waterfall -> back.
. tests/e2e/lib.sh

CLI="$BIN/tracecli"
TID=4bf92f3577b34da6a3ce929d0e0e4736
SOCK="$TMP/tmux.sock"
TM="tmux -S $SOCK"

if ! command -v tmux >/dev/null 2>&1 || [ ! -x "$BIN/tracecollector" ]; then
	skip "tmux or the collector is missing"
	finish
fi
stop_tmux() { $TM kill-server 2>/dev/null; }
trap 'stop_tmux; cleanup' EXIT

start_collector c1 || { fail "collector start"; finish; }
s=$(($(date +%s) - 60))
T0=$s	# the fixture's start ($s is reused by loops below)
TIDB=5bf92f3577b34da6a3ce929d0e0e4736
# The checkout trace, its "charge" span linking to trace B (the same trace
# with db.query 40 ms slower and no render span).
sed "s/@S@/$s/g" tests/e2e/fixtures/tracecli_checkout.json |
	jq --arg b $TIDB '(.. | objects | select(.name=="charge")) += {links: [{traceId: $b, spanId: "0000000000000007"}]}' >"$TMP/t.json"
jq '(.. | objects | select(.name=="db.query") | .endTimeUnixNano) |= ((tonumber + 40000000)|tostring) | (.. | objects | select(has("links"))) |= del(.links) | .resourceSpans[].scopeSpans[].spans |= map(select(.name != "render"))' \
	"$TMP/t.json" | sed "s/$TID/$TIDB/g" >"$TMP/b.json"
for f in t b; do
	"$CLI" import "$TMP/$f.json" --ingest "$COLL_INGEST" >/dev/null 2>&1 ||
		fail "import $f"
done

# run NAME CMD: starts CMD in a 120x40 tmux session; its exit status lands
# in $TMP/NAME.rc.
run() {
	name=$1; shift
	$TM new-session -d -s "$name" -x 120 -y 40 \
	    "env LANG=C.UTF-8 TERM=xterm-256color $* ; echo \$? >$TMP/$name.rc"
}
screen() { $TM capture-pane -p -t "$1"; }
keys() { t=$1; shift; $TM send-keys -t "$t" "$@"; sleep 0.3; }
# wait_screen NAME TEXT: until TEXT is on screen (10 s: a loaded machine
# and sanitizer builds start slowly).
wait_screen() {
	i=0
	until screen "$1" | grep -qF -- "$2"; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.1
	done
}
on_screen() { screen "$1" | grep -qF -- "$2"; }
row() { screen "$1" | grep -F -- "$2" | head -n 1; }

run w "$CLI --collector $COLL_QUERY show $TID"
# Keep the server when its last session ends (it goes at kill-server on
# exit): a server that is exiting refuses the next new-session ("server
# exited unexpectedly").
$TM set-option -s exit-empty off
check "waterfall appears" wait_screen w "11 spans  4 services  1 error"
check "time axis with units" sh -c "$TM capture-pane -p -t w | sed -n 3p | grep -q 'SELF 0 .*50ms .*100ms'"
check "the minimap shows the whole window" sh -c "$TM capture-pane -p -t w | sed -n 2p | grep -q '^window 0-120ms of 120ms'"
check "root row has a bar" sh -c "$TM capture-pane -p -t w | grep -q 'GET /checkout .* 120ms .*██████████'"
check "children are indented" on_screen w "│  └─ ▾ POST /charge"
check "error row is marked" sh -c "$TM capture-pane -p -t w | grep -q 'POST /charge *E'"
check "clock skew is flagged" sh -c "$TM capture-pane -p -t w | grep -q 'fraud.check *K .*<█'"
check "missing parent is flagged" sh -c "$TM capture-pane -p -t w | grep -q 'retry.callback *M'"
check "escape strings are shown inert" on_screen w 'x\x1b[2J\x1b[31mRED\u202ecod.exe'
check "the screen was not cleared by the span name" on_screen w "Trace $TID"
check "service names are inert" on_screen w 'evil\x1b]0;pw'

keys w g Space
check "collapse hides the subtree" sh -c "$TM capture-pane -p -t w | grep -q '▸ GET /checkout (3)' && ! $TM capture-pane -p -t w | grep -q cart.get"
keys w Space
check "expand shows it again" on_screen w "cart.get"
keys w c
check "collapse all" sh -c "! $TM capture-pane -p -t w | grep -q redis"
keys w e
check "expand all" on_screen w "redis GET"

keys w g x
check "next error selects POST /charge" on_screen w " 6/11 "
keys w Enter
check "detail pane opens" on_screen w "span detail"
check "detail shows status" on_screen w "status message: card declined"
check "detail shows attributes" on_screen w "card.type = visa"
check "detail shows events" on_screen w "exception.message = declined by issuer"
check "detail shows the resource" on_screen w "service.name = payments"
keys w Escape
check "Esc closes the detail pane" sh -c "! $TM capture-pane -p -t w | grep -q 'span detail'"

keys w p
check "critical path on" on_screen w "critical path on"
check "critical spans are starred" sh -c "$TM capture-pane -p -t w | grep -q 'db.query *\\*'"
check "orphan is not on the critical path" sh -c "$TM capture-pane -p -t w | grep -q 'retry.callback *M'"
keys w p

keys w g / r e d i s Enter
check "search finds redis" on_screen w "1 match for 'redis'"
keys w g n
check "n jumps to the match" on_screen w " 4/11 "
keys w s Enter
check "slowest span is db.query" on_screen w "db.query  [payments]"
keys w Escape

keys w '?'
check "help lists keys" on_screen w "critical path"
keys w Escape

$TM resize-window -t w -x 80 -y 24 2>/dev/null
sleep 0.4
width=$(screen w | while IFS= read -r l; do printf '%s' "$l" | LC_ALL=C.UTF-8 wc -m; done | sort -n | tail -n 1)
check "80x24 fits (widest $width)" [ "$width" -le 80 ]
check "80x24 still shows rows" on_screen w "POST /charge"
check "80x24 keeps a short service column" sh -c "$TM capture-pane -p -t w | sed -n 3p | grep -q ' SVC '"
check "80x24: a client and its server span differ by service" \
	sh -c "$TM capture-pane -p -t w | grep -q 'POST /charge .* payments'"
keys w '?'
check "80x24: the help says what part it shows" on_screen w "1-21 of 45"
keys w G
check "80x24: the help scrolls to its end" on_screen w "Gutter: +N counts"
check "80x24: ... and says where it is" on_screen w "25-45 of 45"
keys w Escape
check "Esc closes the help" sh -c "! $TM capture-pane -p -t w | grep -q 'waterfall keys'"
$TM resize-window -t w -x 120 -y 40 2>/dev/null
sleep 0.4
check "back at 120x40 the full service column returns" sh -c "$TM capture-pane -p -t w | sed -n 3p | grep -q SERVICE"

keys w S
check "S shows the trace statistics" on_screen w "SERVICE / OPERATION"
check "statistics: payments has the most self time" \
	sh -c "$TM capture-pane -p -t w | sed -n 4p | grep -q '^payments  *4  *162ms  *40.5ms  *99ms  *82.5%  *1'"
keys w x
check "any other key closes the statistics" sh -c "! $TM capture-pane -p -t w | grep -q 'SERVICE / OPERATION'"

# The mouse (xterm SGR reports): a click selects the row under it, the
# wheel scrolls by three.
keys w g
$TM send-keys -t w -l "$(printf '\033[<0;5;8M\033[<0;5;8m')"; sleep 0.3
check "a click selects the 5th row" on_screen w " 5/11 "
$TM send-keys -t w -l "$(printf '\033[<65;5;8M')"; sleep 0.3
check "the wheel scrolls down by three" on_screen w " 8/11 "

# o on charge opens the linked trace, on the linked span; Esc comes back.
keys w g j j j j
check "charge is selected" on_screen w " 5/11 "
keys w o
check "o opens the linked trace" wait_screen w "Trace $TIDB"
check "... on the linked span (db.query, 8th row)" on_screen w " 8/10 "
keys w Escape
check "Esc returns to the first trace" wait_screen w "Trace $TID"

keys w g '+' '+'
check "zoom in" on_screen w "[zoomed]"
check "the minimap shows the zoomed window" \
	sh -c "$TM capture-pane -p -t w | sed -n 2p | grep -q '^window 0-30ms of 120ms'"
keys w 0
check "zoom reset" sh -c "! $TM capture-pane -p -t w | grep -q zoomed"

keys w q
sleep 0.3
check_eq "q exits 0" "$(cat "$TMP/w.rc" 2>/dev/null)" 0

# -n N exits by itself after N frames.
run n "$CLI --collector $COLL_QUERY show $TID -n 3"
sleep 1
check_eq "-n 3 exits by itself" "$(cat "$TMP/n.rc" 2>/dev/null)" 0

# SIGTERM and Ctrl-C end curses and exit 143 and 130, the terminal
# restored (no alternate screen, no mouse reports, cursor shown); the
# pane stays to be looked at.
run_keep() {
	name=$1; shift
	$TM new-session -d -s "$name" -x 120 -y 40 \
	    "env LANG=C.UTF-8 TERM=xterm-256color $* ; echo \$? >$TMP/$name.rc; sleep 30"
}
restored() {
	check_eq "$1: terminal restored" \
	    "$($TM display -p -t "$1" '#{alternate_on} #{mouse_any_flag} #{cursor_flag}')" "0 0 1"
}
run_keep t "$CLI --collector $COLL_QUERY show $TID"
wait_screen t "11 spans" || true
pid=$(pgrep -f "^$CLI --collector $COLL_QUERY show $TID" | head -n 1)
[ -n "$pid" ] && kill -TERM "$pid"
sleep 0.6
check_eq "SIGTERM exits 143" "$(cat "$TMP/t.rc" 2>/dev/null)" 143
restored t
run_keep i "$CLI --collector $COLL_QUERY tui"
wait_screen i "Errors only" || true
keys i C-c
sleep 0.3
check_eq "Ctrl-C in the tui exits 130" "$(cat "$TMP/i.rc" 2>/dev/null)" 130
restored i
run_keep nm "$CLI --collector $COLL_QUERY show $TID --no-mouse"
wait_screen nm "11 spans" || true
check_eq "--no-mouse leaves the mouse to the terminal" \
	"$($TM display -p -t nm '#{mouse_any_flag}')" 0
for s in t i nm; do $TM kill-session -t "$s" 2>/dev/null; done

# Colour roles, NO_COLOR and TERM=vt100 (capture-pane -e keeps the SGR
# attributes: a foreground colour shows as ESC[3Xm or ESC[9Xm, 39 being
# "default").
run_env() {
	name=$1; envs=$2; shift 2
	$TM new-session -d -s "$name" -x 120 -y 40 \
	    "env LANG=C.UTF-8 $envs $* ; echo \$? >$TMP/$name.rc"
}
coloured() {
	$TM capture-pane -e -p -t "$1" |
		grep -qE "$(printf '\033')\[(3[0-8]|9[0-7])[;m]"
}
run_env col "TERM=xterm-256color" "$CLI --collector $COLL_QUERY show $TID"
wait_screen col "11 spans" || true
check "colours by default on xterm-256color" coloured col
run_env nocol "TERM=xterm-256color NO_COLOR=1" \
	"$CLI --collector $COLL_QUERY show $TID"
wait_screen nocol "11 spans" || true
check "NO_COLOR: no colours" sh -c "! $TM capture-pane -e -p -t nocol |
	grep -qE '$(printf '\033')\[(3[0-8]|9[0-7])[;m]'"
check "NO_COLOR: the error row is still marked" \
	sh -c "$TM capture-pane -p -t nocol | grep -q 'POST /charge *E'"
run_env vt "TERM=vt100" "$CLI --collector $COLL_QUERY show $TID"
wait_screen vt "11 spans" || true
check "TERM=vt100: ASCII tree and bars" \
	sh -c "$TM capture-pane -p -t vt | grep -q '|  \`- - POST /charge' &&
	$TM capture-pane -p -t vt | grep -q 'GET /checkout .*#####'"
check "TERM=vt100: no UTF-8 box or block characters" \
	sh -c "! $TM capture-pane -p -t vt | grep -q '[│└─█▾]'"
for s in col nocol vt; do $TM kill-session -t "$s" 2>/dev/null; done

# The tui: form -> list -> waterfall -> back.
run u "$CLI --collector $COLL_QUERY tui"
check "tui shows the form" wait_screen u "Min span duration"
keys u Enter
check "tui lists the traces" wait_screen u "frontend: GET /checkout"
check "tui draws the duration strip" on_screen u "duration over time"
check "the list has a trace ID column" on_screen u "5bf92f35 frontend: GET /checkout"
check "the list has a services column" on_screen u "cart,evil"
check "the list says the position" on_screen u "2 traces  sorted by newest  1/2"
keys u G
check "G: 2/2" on_screen u " 2/2 "
keys u g
check "g goes to the first" on_screen u " 1/2 "
keys u '?'
check "? shows the list's keys" on_screen u "trace list keys"
keys u Escape
keys u 2
check "2: the collector's longest first" on_screen u "sorted by longest  1/2"
check "longest: the 130ms trace first" \
	sh -c "$TM capture-pane -p -t u | sed -n 5p | grep -q '130ms .* 5bf92f35'"
keys u 3
check "3: most spans, asked of the collector" wait_screen u "sorted by most spans  1/2"
check "most spans: the 11-span trace first" \
	sh -c "$TM capture-pane -p -t u | sed -n 5p | grep -q ' 11 .* 4bf92f35'"
keys u 4
check "4: most errors, asked of the collector" wait_screen u "sorted by most errors  1/2"
keys u 3
wait_screen u "sorted by most spans  1/2" || true
keys u m
check "m marks a trace" on_screen u "marked 4bf92f3577b34da6a3ce929d0e0e4736 as A"
keys u j c
check "c compares the marked trace with the selected one" wait_screen u "compare: A marked, B selected"
check "the compare shows db.query slower" on_screen u "db.query"
check "... with its change" on_screen u "+40ms +67%"
keys u Escape
keys u D
check "D shows the service dependencies of the window" wait_screen u "service dependencies in the window (21 spans read)"
check "... frontend calls payments" on_screen u "payments  2 calls, 2 errors"
keys u Escape
check "Esc leaves the deps view" on_screen u "sorted by most spans"
keys u k Enter
check "tui opens the waterfall" wait_screen u "11 spans  4 services"
keys u Escape
check "Esc goes back to the list" on_screen u "sorted by"
keys u Escape
check "Esc goes back to the form" on_screen u "Errors only"
keys u Tab Tab Tab Tab Tab 1 h Enter
check "tui min duration 1h finds nothing" on_screen u "0 traces"
keys u Escape BTab BTab BTab BTab BTab BTab
keys u $TIDB Enter
check "the trace ID box opens that trace" wait_screen u "Trace $TIDB"
keys u Escape Escape
sleep 0.3
check_eq "tui exits 0" "$(cat "$TMP/u.rc" 2>/dev/null)" 0

# Follow mode: a trace imported now joins the top of the list.
run fo "$CLI --collector $COLL_QUERY tui"
wait_screen fo "Min span duration" || true
keys fo Enter
wait_screen fo "2 traces" || true
keys fo f
check "f follows" wait_screen fo "following"
TIDF=7bf92f3577b34da6a3ce929d0e0e4736
sed "s/@S@/$(date +%s)/g; s/$TID/$TIDF/g" tests/e2e/fixtures/tracecli_checkout.json >"$TMP/f.json"
"$CLI" import "$TMP/f.json" --ingest "$COLL_INGEST" >/dev/null 2>&1
check "a new trace joins the list" wait_screen fo "3 traces  sorted by newest"
check "... on top" sh -c "$TM capture-pane -p -t fo | sed -n 5p | grep -q 7bf92f35"
# Spans that started ten minutes before they arrive join it too (the
# collector's cursor follows what it indexes, not span starts).
TIDG=7cf92f3577b34da6a3ce929d0e0e4736
sed "s/@S@/$(($(date +%s) - 600))/g; s/$TID/$TIDG/g" tests/e2e/fixtures/tracecli_checkout.json >"$TMP/g.json"
"$CLI" import "$TMP/g.json" --ingest "$COLL_INGEST" >/dev/null 2>&1
check "a trace that arrives late joins the list" wait_screen fo "4 traces  sorted by newest"
check "... on top, as it arrived last" sh -c "$TM capture-pane -p -t fo | sed -n 5p | grep -q 7cf92f35"
keys fo q

# tui takes the search flags: the form starts filled in.
run v "$CLI --collector $COLL_QUERY tui --service payments --attr card.type=visa --min-duration 5ms --errors"
check "tui --service pre-fills the form" wait_screen v "Service                payments"
check "... and the attribute" on_screen v "card.type=visa"
check "... and the duration" on_screen v "Min span duration      5ms"
check "... and errors only" on_screen v "[x]"
keys v Escape

# Longest over the whole window, not among the newest: C started 30 s
# before the others and lasts 500 ms; with a limit of 1 the newest is A
# or B, the longest must be C.
TIDC=8bf92f3577b34da6a3ce929d0e0e4736
sed "s/@S@/$((T0 - 30))/g; s/$TID/$TIDC/g" tests/e2e/fixtures/tracecli_checkout.json |
	jq '(.. | objects | select(.name=="GET /checkout") | .endTimeUnixNano) |= ((tonumber + 380000000)|tostring)' >"$TMP/c.json"
"$CLI" import "$TMP/c.json" --ingest "$COLL_INGEST" >/dev/null 2>&1
run lo "$CLI --collector $COLL_QUERY tui --limit 1"
wait_screen lo "Min span duration" || true
keys lo Enter
ALL=$("$CLI" --collector $COLL_QUERY search --limit 1000 --json | jq length)
check "a list cut at its limit says how many match" wait_screen lo "1 of $ALL traces  sorted by newest"
check "... of more than one" [ "$ALL" -gt 1 ]
check "newest: not C" sh -c "! $TM capture-pane -p -t lo | grep -q 8bf92f35"
keys lo 2
check "longest asks the collector: C, the longest of the window" \
	wait_screen lo "500ms    11    1 8bf92f35"
keys lo q

# A 30-deep chain at 80x24: rows keep inside the width, children sit
# right of their parents within a step, and the gutter counts the levels
# hidden on the left.
TIDD=dee9dee9dee9dee9dee9dee9dee9dee9
jq -n --arg t $TIDD --argjson s $T0 '{resourceSpans: [{resource: {attributes:
	[{key: "service.name", value: {stringValue: "deep"}}]}, scopeSpans: [{spans:
	[range(30) as $i | {traceId: $t, spanId: ($i + 1 | tostring | ("0000000000000000" + .)[-16:]),
	 name: ("call-" + ($i | tostring)), kind: 1,
	 startTimeUnixNano: (($s * 1000000000 + $i * 1000000) | tostring),
	 endTimeUnixNano: (($s * 1000000000 + (60 - $i) * 1000000) | tostring)}
	 + (if $i > 0 then {parentSpanId: ($i | tostring | ("0000000000000000" + .)[-16:])} else {} end)]}]}]}' >"$TMP/deep.json"
"$CLI" import "$TMP/deep.json" --ingest "$COLL_INGEST" >/dev/null 2>&1
$TM new-session -d -s dp -x 80 -y 24 \
    "env LANG=C.UTF-8 TERM=xterm-256color $CLI --collector $COLL_QUERY show $TIDD; echo \$? >$TMP/dp.rc"
check "the deep trace opens" wait_screen dp "30 spans  1 service"
keys dp G
width=$(screen dp | while IFS= read -r l; do printf '%s' "$l" | LC_ALL=C.UTF-8 wc -m; done | sort -n | tail -n 1)
check "deep rows fit 80 columns (widest $width)" [ "$width" -le 80 ]
check "the gutter counts hidden levels" sh -c "$TM capture-pane -p -t dp | grep -q '^+26 .*call-29'"
check "no N: depth prefix any more" sh -c "! $TM capture-pane -p -t dp | grep -q '[0-9]:'"
keys dp q

finish
