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
# The set is the candidate's files with only the sites the program renders
# now: a site file of a removed domain is left to its own step's delete
# (which runs last), but never goes live again.
set=$_tmp/set
cp -a "$cand" "$set"
for f in "$set"/sites/*.conf; do
    [ -e "$f" ] || continue
    keep=0
    for s in "${SITES[@]}"; do [ "$(basename "$f")" = "$s" ] && keep=1; done
    [ "$keep" = 1 ] || rm -f "$f"
done
for s in "${SITES[@]}"; do [ -e "$set/sites/$s" ] || fail "site $cand/sites/$s is missing (its nginx-site step writes it)"; done
set_sum() { (cd "$1" && find . -type f ! -name '.*' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16); }
want=$(set_sum "$set")
have=none
[ -d "$CONF_DIR/live/" ] && have=$(set_sum "$CONF_DIR/live/")
if [ "$want" != "$have" ]; then
    [ -x "$BIN" ] || fail "$BIN is missing (the nginx-build step installs it)"
    if ! out=$("$BIN" -t -q -c "$set/nginx.conf" 2>&1); then
        # nginx may quote the secure_link line: never print the secret.
        secret=$(sed -n 's/^secure_link_md5 "${secure_link_expires}${uri}\(.*\)";$/\1/p' "$set/secure-link.conf" 2>/dev/null || true)
        [ -z "$secret" ] || out=${out//"$secret"/[secret]}
        # name the files where the operator finds them
        out=${out//"$set"/"$cand"}
        fail "the nginx configuration fails \`nginx -t\`, the live configuration stays in place: $out"
    fi
    if change "activate nginx configuration $want (live was $have)"; then
        rel=$CONF_DIR/releases/$want
        mkdir -p "$CONF_DIR/releases" && rm -rf "$rel.tmp" && cp -a "$set" "$rel.tmp" && rm -rf "$rel" && mv "$rel.tmp" "$rel" \
            || fail "cannot copy the candidate set to $rel"
        prev=$(readlink "$CONF_DIR/live" 2>/dev/null || true)
        ln -sfn "releases/$want" "$CONF_DIR/live.tmp" && mv -T "$CONF_DIR/live.tmp" "$CONF_DIR/live" \
            || fail "cannot point $CONF_DIR/live at $rel"
        # Keep the live release and the one before it (by name: cp -a keeps old mtimes).
        for old in "$CONF_DIR"/releases/*; do
            case "releases/$(basename "$old")" in "releases/$want" | "$prev") ;; *) rm -rf "$old" ;; esac
        done
        if systemctl is-active -q "$UNIT"; then
            systemctl reload "$UNIT" || fail "systemctl reload $UNIT failed: $(systemctl status --no-pager -n 5 "$UNIT" 2>&1 | tail -n 5)"
        fi
    fi
fi
