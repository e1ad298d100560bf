# nginx from source, with pairstore's dav patch (on stdin: write-once PUT and
# MOVE, no partial files, no DELETE or MOVE of a directory). Rebuilds only
# when the build id (version, checksum, configure flags, patch) changes; a
# tarball whose sha256 differs stops the step with both sums; a patch that
# does not apply stops it naming the version; the new binary replaces the old
# one only after it passes `nginx -t` with the configuration it will run (the
# service step restarts it).
VERSION={{version}}
SHA256={{sha256}}
URL={{url}}
UPLOADED={{uploaded}}
BIN={{bin}}
LIVE_CONF={{live_conf}}
CACHE={{cache}}
VAR_DIR={{var_dir}}
FLAGS=({{flags}})
BUILD_ID={{build_id}}
ID_FILE=$STATE_DIR/nginx-build-id
PATCH=$(read_stdin)
current=$(cat "$ID_FILE" 2>/dev/null || true)
if [ "$current" = "$BUILD_ID" ] && [ -x "$BIN" ]; then
    echo "nginx $VERSION: build $BUILD_ID is installed"
elif change "build nginx $VERSION (build ${current:-none} -> $BUILD_ID)"; then
    sum_of() { sha256sum "$1" | cut -d' ' -f1; }
    mkdir -p "$CACHE" "$VAR_DIR" || fail "cannot create $CACHE and $VAR_DIR"
    tarball=$CACHE/nginx-$VERSION.tar.gz
    if [ ! -f "$tarball" ] || [ "$(sum_of "$tarball")" != "$SHA256" ]; then
        if [ -n "$UPLOADED" ]; then
            [ -f "$UPLOADED" ] || fail "the pushed nginx tarball $UPLOADED is missing"
            src=$UPLOADED from=$UPLOADED
        else
            curl -fsSL --retry 2 --connect-timeout 20 -o "$_tmp/nginx.tar.gz" "$URL" || fail "cannot download $URL"
            src=$_tmp/nginx.tar.gz from=$URL
        fi
        got=$(sum_of "$src")
        if [ "$got" != "$SHA256" ]; then
            fail "checksum mismatch for nginx $VERSION from $from: sha256 is $got, expected $SHA256 (pairstore:nginx.sha256); nothing was built or replaced"
        fi
        cp "$src" "$tarball.tmp" && mv -f "$tarball.tmp" "$tarball" || fail "cannot keep $tarball"
    fi
    build=/var/tmp/pairstore-nginx-build
    rm -rf "$build" && mkdir -p "$build" || fail "cannot create $build"
    tar -xzf "$tarball" -C "$build" --strip-components=1 || fail "cannot unpack $tarball"
    log=$build/build.log
    (cd "$build" && patch -p1 --forward --batch < "$PATCH") >"$log" 2>&1 \
        || fail "pairstore's dav patch does not apply to nginx $VERSION (it is made for 1.22.1): $(tail -n 5 "$log")"
    # niced: both nodes of a pair build at once, and may be serving meanwhile
    (cd "$build" && nice -n 10 ./configure "${FLAGS[@]}") >>"$log" 2>&1 || fail "./configure failed: $(tail -n 15 "$log")"
    nice -n 10 make -C "$build" -j"$(nproc)" >>"$log" 2>&1 || fail "make failed: $(tail -n 15 "$log")"
    # The new binary must accept the configuration it will run with.
    conf=$LIVE_CONF
    if [ ! -f "$conf" ]; then
        conf=$_tmp/minimal.conf
        printf 'pid %s/test.pid;\nevents {}\nhttp { access_log off; }\n' "$_tmp" > "$conf"
    fi
    out=$("$build/objs/nginx" -t -q -c "$conf" 2>&1) \
        || fail "the new nginx $VERSION fails \`nginx -t -c $conf\`; the old binary stays in place: $out"
    install -m 0755 "$build/objs/nginx" "$BIN.pairstore-new" && mv -f "$BIN.pairstore-new" "$BIN" \
        || fail "cannot install $BIN"
    mkdir -p "$STATE_DIR" && echo "$BUILD_ID" > "$ID_FILE"
    rm -rf "$build"
    echo "built: $("$BIN" -v 2>&1)"
fi
