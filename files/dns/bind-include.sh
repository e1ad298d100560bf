# Shard records of one domain in a zone include file on a BIND primary.
# pairstore owns the include file and one `$INCLUDE` line in the zone's
# master file; it bumps the SOA serial, checks the whole zone with
# named-checkzone before anything is activated, then reloads the zone.
# MODE=delete writes an include without records (the $INCLUDE line stays,
# so the zone keeps loading).
ZONE={{zone}}
ZONE_FILE={{zone_file}}
INCLUDE={{include_file}}
DOMAIN={{domain}}
MODE={{mode}}
for tool in named-checkzone named-checkconf rndc perl; do
    command -v "$tool" >/dev/null || fail "$tool is not installed on the BIND host: pairstore's bind backend needs a BIND 9 primary (Debian: bind9, bind9-utils)"
done
[ -f "$ZONE_FILE" ] || fail "zone file $ZONE_FILE of zone $ZONE does not exist on this host: set pairstore:dns.domains.$DOMAIN.zoneFile to the zone's master file (named-checkconf -p shows it)"
src=$(read_stdin)
zone_status() { rndc zonestatus "$ZONE" 2>/dev/null || true; }
if [ "$MODE" = delete ] && grep -qx 'dynamic: yes' <<<"$(zone_status)"; then
    # The zone takes dynamic updates now: it was handed to another publisher
    # (the rfc2136 backend), which owns its records. The include file is not
    # read for a dynamic zone's records, and a reload would fail: leave both.
    echo "kept: zone $ZONE is a dynamic zone now; its records of $DOMAIN belong to the backend that updates it, $INCLUDE stays as it is"
    exit 0
fi
if [ "$MODE" = delete ]; then
    # stdin still holds the records last applied: write the include without them.
    cat > "$src" <<'EMPTY'
{{empty_include}}
EMPTY
fi
LINE="\$INCLUDE \"$INCLUDE\""
HANDLER="dns-$ZONE-$DOMAIN"
hash=$({ cat "$src"; echo "$ZONE_FILE"; } | sha256sum | cut -c1-16)

has_line=0; grep -qxF "$LINE" "$ZONE_FILE" && has_line=1
same=0; [ -f "$INCLUDE" ] && cmp -s "$src" "$INCLUDE" && same=1
if [ "$MODE" = delete ] && [ "$has_line" = 0 ]; then
    # Nothing includes it: just remove the file.
    if [ -e "$INCLUDE" ] && change "remove $INCLUDE"; then rm -f "$INCLUDE"; fi
elif [ "$same" = 0 ] || [ "$has_line" = 0 ] || handler_due "$HANDLER" "$hash"; then
    [ "$same" = 1 ] || change "write $INCLUDE ($(awk '$3 == "IN" && $4 == "A"' "$src" | wc -l) A records)" || true
    [ "$has_line" = 1 ] || change "add $LINE to $ZONE_FILE" || true
    if change "bump the SOA serial of $ZONE and reload it"; then
        # named resolves relative paths in zone files from its working directory.
        dir=$(sed -n '/^[[:space:]]*directory "/{s/^[[:space:]]*directory "\(.*\)";/\1/p;q}' <<<"$(named-checkconf -p 2>/dev/null || true)")
        cd "${dir:-/}" || fail "cannot enter named's directory $dir"
        out=$(named-checkzone "$ZONE" "$ZONE_FILE" 2>&1) || fail "zone $ZONE does not load as it is, so pairstore leaves it alone: $out"
        serial=$(sed -n '/loaded serial [0-9]/{s/.*loaded serial \([0-9]*\).*/\1/p;q}' <<<"$out")
        [ -n "$serial" ] || fail "cannot read the SOA serial of zone $ZONE from named-checkzone: $out"
        next=$(( (serial + 1) % 4294967296 )); [ "$next" != 0 ] || next=1
        # Candidates: the include, and the zone file with the $INCLUDE line (pointing at the candidate for the check) and the new serial.
        cp "$src" "$_tmp/include"
        { cat "$ZONE_FILE"; [ "$has_line" = 1 ] || { echo "; shard records of $DOMAIN, written by pairstore"; echo "$LINE"; }; } > "$_tmp/zone"
        SERIAL_OLD=$serial SERIAL_NEW=$next perl -0777 -i -pe \
            's/(\bSOA\s+\S+\s+\S+\s*\(?(?:\s|;[^\n]*\n)*)$ENV{SERIAL_OLD}\b/${1}$ENV{SERIAL_NEW}/i' "$_tmp/zone"
        INC_OLD=$INCLUDE INC_NEW=$_tmp/include perl -pe 's/^\$INCLUDE\s+"?\Q$ENV{INC_OLD}\E"?(\s|$)/\$INCLUDE "$ENV{INC_NEW}"$1/' "$_tmp/zone" > "$_tmp/zone.check"
        out=$(named-checkzone "$ZONE" "$_tmp/zone.check" 2>&1) ||
            fail "zone $ZONE with the new shard records fails named-checkzone, nothing was changed: $out"
        grep -q "loaded serial $next\b" <<<"$out" ||
            fail "cannot bump the SOA serial of zone $ZONE in $ZONE_FILE (write it as a plain number in the SOA record): $out"
        # Activate: the include first, then the zone file, each atomically, with the zone file's owner and mode.
        mkdir -p "$(dirname "$INCLUDE")" || fail "cannot create $(dirname "$INCLUDE")"
        tmp=$(mktemp "$INCLUDE.pairstore.XXXXXX") && cat "$_tmp/include" > "$tmp" && chmod 644 "$tmp" && mv -f "$tmp" "$INCLUDE" ||
            { rm -f "$tmp"; fail "cannot write $INCLUDE"; }
        tmp=$(mktemp "$ZONE_FILE.pairstore.XXXXXX") && cat "$_tmp/zone" > "$tmp" &&
            chown --reference="$ZONE_FILE" "$tmp" && chmod --reference="$ZONE_FILE" "$tmp" && mv -f "$tmp" "$ZONE_FILE" ||
            { rm -f "$tmp"; fail "cannot write $ZONE_FILE"; }
        out=$(rndc reload "$ZONE" 2>&1) || fail "rndc reload $ZONE failed: $out"
        for _ in $(seq 50); do
            grep -q "^serial: $next\$" <<<"$(zone_status)" && break
            sleep 0.2
        done
        grep -q "^serial: $next\$" <<<"$(zone_status)" ||
            fail "named did not load serial $next of zone $ZONE after rndc reload: $(rndc zonestatus "$ZONE" 2>&1 | tr '\n' ' ')"
        handler_done "$HANDLER" "$hash"
    fi
fi
