#include heartbeat/heartbeat-restart.sh
# heartbeat's authkeys: written from stdin (a Pulumi secret), mode 0600; this
# step logs nothing. A new key restarts heartbeat here (the handler's inputs
# cannot carry the secret), and waits until this node holds its IPs again.
DEST={{path}}
src=$(read_stdin)
if install_file "$src" "$DEST" 600; then
    [ "$CHECK" = 1 ] || restart_heartbeat
fi
