# nginx from source, with pairstore's dav patch (on stdin: write-once PUT and
# MOVE, no partial files, no DELETE or MOVE of a directory). Rebuilds only
# when the build id (version, checksum, configure flags, patch) changes; a
# tarball whose sha256 differs stops the step with both sums; a patch that
# does not apply stops it naming the version; the new binary replaces the old
# one only after it passes `nginx -t` with the configuration it will run (the
# service step restarts it).
# A node with a donor (its pair's first node; for a joining pair's first
# node, the first existing pair's) installs the donor's build of the same id
# instead of compiling it: fetched from the donor's internal port and kept
# only when its sha256 is the one the donor's own step printed (the first
# line of stdin); otherwise it compiles, as without a donor. Every node keeps
# a copy of its build for the nodes that install it and prints its sha256.
VERSION={{version}}
SHA256={{sha256}}
URL={{url}}
UPLOADED={{uploaded}}
BIN={{bin}}
LIVE_CONF={{live_conf}}
CACHE={{cache}}
VAR_DIR={{var_dir}}
BUILDS={{builds}}
FLAGS=({{flags}})
BUILD_ID={{build_id}}
DONOR={{donor}}
DONOR_URL={{donor_url}}
ID_FILE=$STATE_DIR/nginx-build-id
IN=$(read_stdin)
DONOR_SHA=$(head -n 1 "$IN")
PATCH=$_tmp/patch
tail -n +2 "$IN" > "$PATCH"
sum_of() { sha256sum "$1" | cut -d' ' -f1; }
# fetch_donor_build DEST: the donor's build, when it answers and its sha256 is the expected one.
fetch_donor_build() {
    local got fetched=$_tmp/nginx.fetched
    [ -n "$DONOR_URL" ] || return 1
    if [ -z "$DONOR_SHA" ]; then
        warn "$DONOR printed no sha256 for its build: compiling here"
        return 1
    fi
    if ! curl -fsS --connect-timeout 5 --max-time 120 -o "$fetched" "$DONOR_URL" 2>"$_tmp/curl.err"; then
        warn "cannot fetch $DONOR's build ($(tr '\n' ' ' < "$_tmp/curl.err")): compiling here"
        return 1
    fi
    got=$(sum_of "$fetched")
    if [ "$got" != "$DONOR_SHA" ]; then
        warn "$DONOR's build fetched from $DONOR_URL has sha256 $got, not $DONOR_SHA: compiling here"
        return 1
    fi
    install -m 0755 "$fetched" "$1"
}
current=$(cat "$ID_FILE" 2>/dev/null || true)
if [ "$current" = "$BUILD_ID" ] && [ -x "$BIN" ]; then
    echo "nginx $VERSION: build $BUILD_ID is installed"
elif change "build nginx $VERSION (build ${current:-none} -> $BUILD_ID)"; then
    mkdir -p "$VAR_DIR" || fail "cannot create $VAR_DIR"
    build=/var/tmp/pairstore-nginx-build
    rm -rf "$build" && mkdir -p "$build/objs" || fail "cannot create $build"
    new=$build/objs/nginx
    if fetch_donor_build "$new"; then
        echo "installing $DONOR's build $BUILD_ID (sha256 $DONOR_SHA) instead of compiling it"
    else
        mkdir -p "$CACHE" || fail "cannot create $CACHE"
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
        tar -xzf "$tarball" -C "$build" --strip-components=1 || fail "cannot unpack $tarball"
        log=$build/build.log
        (cd "$build" && patch -p1 --forward --batch < "$PATCH") >"$log" 2>&1 \
            || fail "pairstore's dav patch does not apply to nginx $VERSION (it is made for 1.22.1): $(tail -n 5 "$log")"
        # niced: the node may be serving meanwhile
        (cd "$build" && nice -n 10 ./configure "${FLAGS[@]}") >>"$log" 2>&1 || fail "./configure failed: $(tail -n 15 "$log")"
        nice -n 10 make -C "$build" -j"$(nproc)" >>"$log" 2>&1 || fail "make failed: $(tail -n 15 "$log")"
    fi
    # The new binary must accept the configuration it will run with.
    conf=$LIVE_CONF
    if [ ! -f "$conf" ]; then
        conf=$_tmp/minimal.conf
        printf 'pid %s/test.pid;\nevents {}\nhttp { access_log off; }\n' "$_tmp" > "$conf"
    fi
    out=$("$new" -t -q -c "$conf" 2>&1) \
        || fail "the new nginx $VERSION fails \`nginx -t -c $conf\`; the old binary stays in place: $out"
    install -m 0755 "$new" "$BIN.pairstore-new" && mv -f "$BIN.pairstore-new" "$BIN" \
        || fail "cannot install $BIN"
    mkdir -p "$STATE_DIR" && echo "$BUILD_ID" > "$ID_FILE"
    rm -rf "$build"
    echo "built: $("$BIN" -v 2>&1)"
fi
# The copy other nodes install (the current build only), and its sha256 for their steps.
copy=$BUILDS/$BUILD_ID
if [ -x "$BIN" ] && [ "$(cat "$ID_FILE" 2>/dev/null || true)" = "$BUILD_ID" ]; then
    if ! cmp -s "$BIN" "$copy" 2>/dev/null && change "keep a copy of build $BUILD_ID for the nodes that install it"; then
        mkdir -p "$BUILDS" && install -m 0644 "$BIN" "$copy.tmp" && mv -f "$copy.tmp" "$copy" || fail "cannot keep $copy"
    fi
    [ "$CHECK" = 1 ] || find "$BUILDS" -mindepth 1 -maxdepth 1 ! -name "$BUILD_ID" -exec rm -f {} +
    echo "nginx-build-sha256: $(sum_of "$BIN")"
fi
