#include heartbeat/heartbeat-restart.sh
# heartbeat's handler: it is started by the service monitor, not at boot, and
# restarted here when its configuration changed (HASH) and it runs. Inside a
# pair the peer's steps wait for this node's health gate: one node at a time.
HASH={{hash}}
if systemctl is-enabled -q "$HB_UNIT" 2>/dev/null && change "disable $HB_UNIT at boot ({{monitor}} starts it once nginx answers)"; then
    systemctl disable -q "$HB_UNIT"
fi
if handler_due "$HB_UNIT" "$HASH" && change "$HB_UNIT: configuration changed, daemon-reload and restart when it runs"; then
    systemctl daemon-reload
    restart_heartbeat
    handler_done "$HB_UNIT" "$HASH"
fi
