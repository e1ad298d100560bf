# Shard records of one domain on an RFC 2136 server, sent by nsupdate and
# signed with TSIG. Runs on the machine running Pulumi. The TSIG key comes
# on stdin (never on a command line) and goes to a file only this user reads.
# MODE=apply: make every name hold exactly its pair's two IPs with the TTL;
# MODE=delete: remove the names that still hold what this domain published.
SERVER={{server}}
PORT={{port}}
ZONE={{zone}}
DOMAIN={{domain}}
KEY_NAME={{key_name}}
ALGORITHM={{algorithm}}
MODE={{mode}}
PATH="$PATH:/opt/homebrew/bin:/usr/local/opt/bind/bin"
for tool in nsupdate dig; do
    command -v "$tool" >/dev/null || fail "$tool is not installed on the machine running Pulumi: install bind9-dnsutils (Debian, Ubuntu), bind-utils (RHEL, Fedora) or bind (Homebrew)"
done
keyfile="$_tmp/tsig.key"
(umask 077; cat > "$keyfile")
grep -q secret "$keyfile" || fail "no TSIG key on stdin"

# The records this domain publishes: "<name> <ttl> <ip> <ip>", one line per shard.
cat > "$_tmp/want" <<'RECORDS'
{{records}}
RECORDS

# nsupdate FILE: sends a signed update; every refusal becomes a message that says what to fix.
send_update() {
    local out
    if out=$(nsupdate -v -t 15 -k "$keyfile" "$1" 2>&1); then return 0; fi
    out=$(printf '%s' "$out" | tr '\n' ' ')
    case "$out" in
        *BADSIG*|*BADKEY*|*BADTIME*|*"tsig indicates error"*|*"TSIG error"*|*"could not read key"*|*"bad base64"*)
            fail "DNS server $SERVER:$PORT rejected TSIG key \"$KEY_NAME\" ($ALGORITHM) for zone $ZONE: $out" \
                "-- the key name (pairstore:dns.rfc2136.keyName), algorithm (pairstore:dns.rfc2136.algorithm) and secret (pairstore:dnsTsigSecret) must match a key the server accepts;" \
                "BADSIG means a wrong secret, BADKEY an unknown key name or algorithm, BADTIME a clock more than 5 minutes off" ;;
        *REFUSED*)
            fail "DNS server $SERVER:$PORT refused key \"$KEY_NAME\" the update of zone $ZONE: $out -- allow the key to update A records in the zone (BIND: update-policy { grant $KEY_NAME zonesub A; };)" ;;
        *NOTAUTH*|*NOTZONE*|*SERVFAIL*)
            fail "DNS server $SERVER:$PORT is not the primary of zone $ZONE: $out -- check pairstore:dns.rfc2136.server and pairstore:dns.domains.$DOMAIN.zone" ;;
        *"timed out"*|*"no servers could be reached"*|*"communications error"*|*"connection refused"*|*"network unreachable"*)
            fail "cannot reach DNS server $SERVER:$PORT (TCP) from this machine: $out -- check pairstore:dns.rfc2136.server and .port, and that the machine running Pulumi may reach it" ;;
        *) fail "nsupdate to $SERVER:$PORT for zone $ZONE failed: $out" ;;
    esac
}

# The key first: a rejected key is an error even when no record has to change.
printf 'server %s %s\nzone %s\nprereq yxdomain %s\nsend\n' "$SERVER" "$PORT" "$ZONE" "$ZONE" > "$_tmp/keycheck"
if [ "$MODE" = delete ] && ! out=$(nsupdate -v -t 15 -k "$keyfile" "$_tmp/keycheck" 2>&1); then
    case "$out" in
        *REFUSED*|*NOTAUTH*|*NOTZONE*)
            # The zone no longer takes this key's updates: it was handed to another
            # publisher (the bind backend needs a static zone), which owns its
            # records now. Deleting them is not ours to do.
            echo "kept: zone $ZONE on $SERVER:$PORT no longer takes updates from key \"$KEY_NAME\" ($(printf '%s' "$out" | tr '\n' ' ')): its records of $DOMAIN belong to whoever publishes the zone now"
            exit 0 ;;
    esac
fi
send_update "$_tmp/keycheck"

# current_records: "<name> <ttl> <ip> <ip>" for every name of the want list that has A records.
current_records() {
    local names out
    names=$(awk '{ printf "%s A ", $1 }' "$_tmp/want")
    # shellcheck disable=SC2086
    out=$(dig +tcp +norec +noall +answer +time=5 +tries=2 -p "$PORT" @"$SERVER" $names 2>&1) || fail "cannot query DNS server $SERVER:$PORT: $out"
    if grep -q '^;;' <<<"$out"; then fail "cannot query DNS server $SERVER:$PORT: $(grep -m 3 '^;;' <<<"$out" | tr '\n' ' ')"; fi
    printf '%s\n' "$out" | awk '$3 == "IN" && $4 == "A" { n = tolower($1); ttl[n] = $2; ips[n] = ips[n] " " $5 }
        END { for (n in ips) print n, ttl[n], ips[n] }' | while read -r name ttl rest; do
        printf '%s %s %s\n' "$name" "$ttl" "$(printf '%s\n' $rest | sort | tr '\n' ' ' | sed 's/ $//')"
    done | sort
}
normalize() { while read -r name ttl rest; do [ -n "$name" ] && printf '%s %s %s\n' "$name" "$ttl" "$(printf '%s\n' $rest | sort | tr '\n' ' ' | sed 's/ $//')"; done | sort; }

normalize < "$_tmp/want" > "$_tmp/want.sorted"
current_records > "$_tmp/have"

printf 'server %s %s\nzone %s\n' "$SERVER" "$PORT" "$ZONE" > "$_tmp/update"
n=0
while read -r name ttl ips; do
    have=$(awk -v n="$name" '$1 == n { $1 = ""; sub(/^ /, ""); print }' "$_tmp/have")
    have_ips=${have#* }
    [ -n "$have" ] || have_ips=""
    if [ "$MODE" = delete ]; then
        # Only what this domain published: a name another owner changed since is left alone.
        [ -n "$have" ] && [ "$have_ips" = "$ips" ] || continue
        change "delete $name A ($ips)" || continue
        printf 'update delete %s A\n' "$name" >> "$_tmp/update"
    else
        [ "$have" = "$ttl $ips" ] && continue
        change "set $name A $ips ttl $ttl (was: ${have:-none})" || continue
        printf 'update delete %s A\n' "$name" >> "$_tmp/update"
        for ip in $ips; do printf 'update add %s %s A %s\n' "$name" "$ttl" "$ip" >> "$_tmp/update"; done
    fi
    n=$((n + 1))
done < "$_tmp/want.sorted"

if [ "$n" -gt 0 ]; then
    echo send >> "$_tmp/update"
    send_update "$_tmp/update"
    # Read back: the primary applies an update before it answers.
    current_records > "$_tmp/after"
    if [ "$MODE" = delete ]; then
        left=$(awk 'NR == FNR { want[$1] = $3 " " $4; next } ($1 in want) && want[$1] == $3 " " $4 { print $1 }' "$_tmp/want.sorted" "$_tmp/after")
        [ -z "$left" ] || fail "DNS server $SERVER:$PORT accepted the update but still answers $left"
    else
        missing=$(comm -23 "$_tmp/want.sorted" "$_tmp/after" | sed -n '1,3p' | tr '\n' ';')
        [ -z "$missing" ] || fail "DNS server $SERVER:$PORT accepted the update but does not answer: $missing -- is it the primary of zone $ZONE?"
    fi
fi
