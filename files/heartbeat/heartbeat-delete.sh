# heartbeat is no longer managed: stop it (it hands this node's IPs to the
# peer, if the peer runs) and forget its handler state.
systemctl stop {{unit}} 2>/dev/null || true
rm -f /var/lib/pairstore/handlers/{{unit}}
