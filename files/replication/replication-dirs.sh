# Image roots of every domain with their 4096 layout folders (lsyncd watches
# them all from its start), owned by the web user and marked as replica
# roots (a root without its marker never replays deletes to the peer), and
# pairstore's folder in each (temporary files, tombstones, conflicts). The
# group {{replica_group}} marks files received from the peer (rsyncd writes
# with it). Creates and fixes; never removes anything. When a root had to be
# recreated while lsyncd runs, lsyncd is restarted: it refills the root from
# the peer before it starts, and then watches the new directory.
ROOTS=({{roots}})
WEB_USER={{web_user}}
MARKER={{marker}}
INTERNAL={{internal}}
REPLICA_GROUP={{replica_group}}
HEX=(0 1 2 3 4 5 6 7 8 9 a b c d e f)
if ! getent group "$REPLICA_GROUP" >/dev/null && change "create the group $REPLICA_GROUP (files received from the peer)"; then
    groupadd --system "$REPLICA_GROUP" || fail "cannot create the group $REPLICA_GROUP"
fi
recreated=0
for r in "${ROOTS[@]}"; do
    if [ ! -d "$r" ]; then
        if change "create $r (owned by $WEB_USER)"; then
            mkdir -p "$(dirname "$r")"
            install -d -o "$WEB_USER" -g "$WEB_USER" -m 755 "$r"
            recreated=1
        fi
    elif [ "$(stat -c %U "$r")" != "$WEB_USER" ]; then
        # (the owner only: a pull from the peer gives the root the replica group)
        if change "give $r to $WEB_USER (was $(stat -c %U:%G "$r"))"; then chown "$WEB_USER:$WEB_USER" "$r"; fi
    fi
    have=$( [ -d "$r" ] && find "$r" -mindepth 3 -maxdepth 3 -type d -path "$r/[0-9a-f]/[0-9a-f]/[0-9a-f]" | wc -l || echo 0)
    if [ "$have" -lt 4096 ] && change "create the layout folders of $r ($have of 4096 leaf folders present)"; then
        for x in "${HEX[@]}"; do for y in "${HEX[@]}"; do for z in "${HEX[@]}"; do echo "$r/$x/$y/$z"; done; done; done | xargs mkdir -p
        find "$r" -type d ! -user "$WEB_USER" -exec chown "$WEB_USER:$WEB_USER" {} +
    fi
    for sub in "$INTERNAL" "$INTERNAL/tmp" "$INTERNAL/tmp/body" "$INTERNAL/tmp/rsync" "$INTERNAL/tombstones" "$INTERNAL/conflicts"; do
        if [ -d "$r" ] && { [ ! -d "$r/$sub" ] || [ "$(stat -c %U "$r/$sub")" != "$WEB_USER" ]; } && change "create $r/$sub (owned by $WEB_USER)"; then
            install -d -o "$WEB_USER" -g "$WEB_USER" -m 755 "$r/$sub"
        fi
    done
    # nginx records a DELETE's tombstone in these folders (root made some before)
    if [ -d "$r/$INTERNAL/tombstones" ] && [ -n "$(find "$r/$INTERNAL/tombstones" -type d ! -user "$WEB_USER" -print -quit)" ] \
        && change "give the tombstone folders of $r to $WEB_USER"; then
        find "$r/$INTERNAL/tombstones" -type d ! -user "$WEB_USER" -exec chown "$WEB_USER:$WEB_USER" {} +
    fi
    if [ ! -e "$r/$MARKER" ] && change "mark $r as a replica root ($MARKER)"; then
        touch "$r/$MARKER" && chown "$WEB_USER:$WEB_USER" "$r/$MARKER"
        recreated=1
    fi
done
if [ "$recreated" = 1 ] && systemctl is-active -q pairstore-lsyncd.service 2>/dev/null; then
    change "restart pairstore-lsyncd.service: it refills the recreated roots from the peer and watches them"
    systemctl restart pairstore-lsyncd.service || fail "systemctl restart pairstore-lsyncd.service failed"
fi
