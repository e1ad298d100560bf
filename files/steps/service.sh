# systemd unit handler: reload units and restart/reload the unit only when
# its files changed (HASH), then make sure it is enabled and active.
UNIT={{unit}}
HASH={{hash}}
ACTION={{action}}
if handler_due "$UNIT" "$HASH" && change "$UNIT: configuration changed, daemon-reload and $ACTION"; then
    systemctl daemon-reload
    if [ "$ACTION" != none ] && systemctl is-active -q "$UNIT"; then
        systemctl "$ACTION" "$UNIT" || fail "systemctl $ACTION $UNIT failed: $(systemctl status --no-pager -n 5 "$UNIT" 2>&1 | tail -n 5)"
    fi
    handler_done "$UNIT" "$HASH"
fi
if ! systemctl is-enabled -q "$UNIT" 2>/dev/null && change "enable $UNIT"; then
    systemctl enable -q "$UNIT"
fi
if ! systemctl is-active -q "$UNIT" && change "start $UNIT"; then
    systemctl start "$UNIT" || fail "systemctl start $UNIT failed: $(systemctl status --no-pager -n 5 "$UNIT" 2>&1 | tail -n 5)"
fi
