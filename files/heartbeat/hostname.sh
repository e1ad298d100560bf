# Host name: heartbeat knows a node by `uname -n`, which must be the node's name.
WANT={{name}}
if [ "$(uname -n)" != "$WANT" ] && change "host name $(uname -n) -> $WANT (heartbeat's node name)"; then
    hostname "$WANT" 2>/dev/null || echo "$WANT" > /proc/sys/kernel/hostname || fail "cannot set the host name to $WANT"
fi
if [ "$(cat /etc/hostname 2>/dev/null || true)" != "$WANT" ] && change "write /etc/hostname ($WANT, kept after a reboot)"; then
    echo "$WANT" > /etc/hostname.pairstore && mv -f /etc/hostname.pairstore /etc/hostname
fi
