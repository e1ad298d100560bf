# Activate the candidate nginx configuration: check the whole candidate set
# with `nginx -t`, then point `live` at a copy of it and reload nginx. A set
# that fails the check fails this step with nginx's message (which names the
# file and line) and leaves the live configuration and the running nginx alone.
# Candidate set: {{set_digest}}
CONF_DIR={{conf_dir}}
BIN={{bin}}
UNIT={{unit}}
SITES=({{sites}})
cand=$CONF_DIR/candidate
# Site files the program no longer renders leave the candidate set first.
for f in "$cand"/sites/*.conf; do
    [ -e "$f" ] || continue
    keep=0
    for s in "${SITES[@]}"; do [ "$(basename "$f")" = "$s" ] && keep=1; done
    if [ "$keep" = 0 ] && change "remove $f from the candidate set"; then rm -f "$f"; fi
done
set_sum() { (cd "$1" && find . -type f ! -name '.*' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16); }
want=$(set_sum "$cand")
have=none
[ -d "$CONF_DIR/live/" ] && have=$(set_sum "$CONF_DIR/live/")
if [ "$want" != "$have" ]; then
    [ -x "$BIN" ] || fail "$BIN is missing (the nginx-build step installs it)"
    if ! out=$("$BIN" -t -q -c "$cand/nginx.conf" 2>&1); then
        # nginx may quote the secure_link line: never print the secret.
        secret=$(sed -n 's/^secure_link_md5 "${secure_link_expires}${uri}\(.*\)";$/\1/p' "$cand/secure-link.conf" 2>/dev/null || true)
        [ -z "$secret" ] || out=${out//"$secret"/[secret]}
        fail "the nginx configuration fails \`nginx -t\`, the live configuration stays in place: $out"
    fi
    if change "activate nginx configuration $want (live was $have)"; then
        rel=$CONF_DIR/releases/$want
        mkdir -p "$CONF_DIR/releases" && rm -rf "$rel.tmp" && cp -a "$cand" "$rel.tmp" && rm -rf "$rel" && mv "$rel.tmp" "$rel" \
            || fail "cannot copy the candidate set to $rel"
        ln -sfn "releases/$want" "$CONF_DIR/live.tmp" && mv -T "$CONF_DIR/live.tmp" "$CONF_DIR/live" \
            || fail "cannot point $CONF_DIR/live at $rel"
        # Keep the live release and the one before it.
        for old in $(ls -1t "$CONF_DIR/releases" | tail -n +3); do rm -rf "${CONF_DIR:?}/releases/$old"; done
        if systemctl is-active -q "$UNIT"; then
            systemctl reload "$UNIT" || fail "systemctl reload $UNIT failed: $(systemctl status --no-pager -n 5 "$UNIT" 2>&1 | tail -n 5)"
        fi
    fi
fi
