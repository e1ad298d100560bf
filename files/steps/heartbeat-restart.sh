# heartbeat restarts: stop (the peer takes this node's IPs), start (the peer
# hands them back), then wait until this node holds its own addresses again,
# so the peer is never restarted while this node is still joining.
HB_UNIT={{unit}}
HB_OWN=({{own}})
HB_WAIT={{wait}}
has_address() { local held; held=$(ip -o -4 addr show dev "${1%%=*}" 2>/dev/null || true); grep -qF " inet ${1#*=} " <<<"$held"; }
restart_heartbeat() {
    systemctl is-active -q "$HB_UNIT" || return 0
    systemctl restart "$HB_UNIT" || fail "systemctl restart $HB_UNIT failed: $(systemctl status --no-pager -n 5 "$HB_UNIT" 2>&1 | tail -n 5)"
    local deadline=$((SECONDS + HB_WAIT)) a missing
    while :; do
        missing=()
        for a in "${HB_OWN[@]}"; do has_address "$a" || missing+=("${a#*=}"); done
        [ ${#missing[@]} -eq 0 ] && return 0
        [ "$SECONDS" -lt "$deadline" ] || fail "heartbeat restarted, but this node has not taken back ${missing[*]} within $HB_WAIT s (journalctl -u $HB_UNIT)"
        sleep 0.5
    done
}
