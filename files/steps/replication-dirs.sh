# Image roots of every domain, owned by the web user and marked as replica
# roots (a root without its marker never replays deletes to the peer).
# Creates and fixes; never removes anything.
ROOTS=({{roots}})
WEB_USER={{web_user}}
MARKER={{marker}}
for r in "${ROOTS[@]}"; do
    if [ ! -d "$r" ]; then
        if change "create $r (owned by $WEB_USER)"; then
            mkdir -p "$(dirname "$r")"
            install -d -o "$WEB_USER" -g "$WEB_USER" -m 755 "$r"
        fi
    elif [ "$(stat -c %U:%G "$r")" != "$WEB_USER:$WEB_USER" ]; then
        if change "give $r to $WEB_USER (was $(stat -c %U:%G "$r"))"; then chown "$WEB_USER:$WEB_USER" "$r"; fi
    fi
    if [ ! -e "$r/$MARKER" ] && change "mark $r as a replica root ($MARKER)"; then
        touch "$r/$MARKER" && chown "$WEB_USER:$WEB_USER" "$r/$MARKER"
    fi
done
