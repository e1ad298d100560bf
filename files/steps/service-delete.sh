# The unit is no longer managed: stop and disable it.
systemctl disable --now -q {{unit}} 2>/dev/null || true
rm -f /var/lib/pairstore/handlers/{{unit}}
