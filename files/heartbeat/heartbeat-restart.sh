# heartbeat restarts: stop (the peer takes this node's IPs), start (the peer
# hands them back), then wait until this node holds its own addresses again,
# so the peer is never restarted while this node is still joining. Between
# stop and start, when the peer is up (it answers ARP for its internal
# address), wait until it holds this node's addresses: a heartbeat that starts
# while its peer is still taking its resources over can leave them there
# ("T_STARTING received during takeover"). The failover monitor is held off
# meanwhile (it would start heartbeat again as soon as it sees it stopped).
HB_UNIT={{unit}}
HB_MONITOR={{monitor}}
HB_OWN=({{own}})
HB_WAIT={{wait}}
HB_PEER={{peer}}
has_address() { local held; held=$(ip -o -4 addr show dev "${1%%=*}" 2>/dev/null || true); grep -qF " inet ${1#*=} " <<<"$held"; }
arp_answered() { local out; out=$(timeout {{arp_bound}} arping -D -I "${1%%=*}" -c 1 -w {{arp_wait}} "${1#*=}" 2>/dev/null || true); grep -q "reply from" <<<"$out"; }
restart_heartbeat() {
    systemctl is-active -q "$HB_UNIT" || return 0
    local monitor=0
    if systemctl is-active -q "$HB_MONITOR"; then
        monitor=1
        systemctl stop "$HB_MONITOR"
    fi
    systemctl stop "$HB_UNIT" || fail "systemctl stop $HB_UNIT failed: $(systemctl status --no-pager -n 5 "$HB_UNIT" 2>&1 | tail -n 5)"
    local deadline=$((SECONDS + HB_WAIT)) a missing
    if arp_answered "$HB_PEER"; then
        while :; do
            missing=()
            for a in "${HB_OWN[@]}"; do a=${a%/*}; arp_answered "$a" || missing+=("${a#*=}"); done
            [ ${#missing[@]} -eq 0 ] && break
            [ "$SECONDS" -lt "$deadline" ] || break
            sleep 0.5
        done
    fi
    systemctl start "$HB_UNIT" || fail "systemctl start $HB_UNIT failed: $(systemctl status --no-pager -n 5 "$HB_UNIT" 2>&1 | tail -n 5)"
    [ "$monitor" = 0 ] || systemctl start "$HB_MONITOR" || fail "systemctl start $HB_MONITOR failed"
    deadline=$((SECONDS + HB_WAIT))
    while :; do
        missing=()
        for a in "${HB_OWN[@]}"; do has_address "$a" || missing+=("${a#*=}"); done
        [ ${#missing[@]} -eq 0 ] && return 0
        [ "$SECONDS" -lt "$deadline" ] || fail "heartbeat restarted, but this node has not taken back ${missing[*]} within $HB_WAIT s (journalctl -u $HB_UNIT)"
        sleep 0.5
    done
}
