# Verify the pair, on every apply (this run: {{run_id}}). A wiped or replaced
# image root is recreated and refilled from the peer (lsyncd restarts and
# pulls first), then both nodes are compared and, unless in check mode,
# repaired: the peer's deletes applied, what one node lacks copied, a name
# with two different files kept in both versions (conflicts). In check mode
# every difference is reported as "would: ...". An unreachable peer is a
# warning (its own apply or catch-up repairs it later).
REPLICATE={{replicate}}
READY_FILES=({{ready_files}})
LSYNCD=pairstore-lsyncd.service
if [ "$CHECK" = 1 ]; then
    while IFS= read -r line; do change "${line#heal: would }" || true; done < <("$REPLICATE" heal --dry-run)
    rc=0; out=$("$REPLICATE" verify 2>&1) || rc=$?
    case $rc in
        0) echo "$out" | tail -n 1 ;;
        1) while IFS= read -r line; do change "repair $line" || true; done < <(echo "$out" | grep -v -e '^verify: ' -e 'kept under')
           echo "$out" | grep -e '^verify: ' -e 'kept under' || true ;;
        *) warn "cannot verify against the peer: $(echo "$out" | tail -n 2 | tr '\n' ' ')" ;;
    esac
else
    healed=$("$REPLICATE" heal 2>&1) || fail "cannot recreate the image roots: $healed"
    if [ -n "$healed" ]; then
        change "$healed" || true
        # lsyncd restarts: it refills the recreated roots before it starts
        deadline=$((SECONDS + {{refill_timeout}}))
        while :; do
            ready=1
            for f in "${READY_FILES[@]}"; do [ -e "$f" ] || ready=0; done
            [ "$ready" = 1 ] && systemctl is-active -q "$LSYNCD" && break
            [ "$SECONDS" -lt "$deadline" ] || fail "lsyncd did not refill the recreated roots within {{refill_timeout}} s: $(systemctl status --no-pager -n 5 "$LSYNCD" 2>&1 | tail -n 5 | tr '\n' ' ')"
            sleep 1
        done
        echo "refilled from the peer; lsyncd runs again"
    fi
    rc=0; out=$("$REPLICATE" repair 2>&1) || rc=$?
    echo "$out"
    case $rc in
        0|1) n=$(echo "$out" | grep -c '^fixed: ' || true)
             [ "$n" = 0 ] || change "repaired $n difference(s) with the peer" || true ;;
        *) warn "cannot compare with the peer: $(echo "$out" | tail -n 2 | tr '\n' ' ')" ;;
    esac
fi
