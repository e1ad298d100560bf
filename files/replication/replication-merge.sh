# First sync of the pair: before lsyncd is first enabled, this node applies
# the peer's deletes (tombstones) and copies everything it lacks from its
# peer (the peer does the same), never overwriting a file and never copying
# back a path it deleted, so both disks hold the union minus the deletes.
# The peer's rsyncd must answer.
REPLICATE={{replicate}}
if [ "$CHECK" = 1 ]; then
    out=$("$REPLICATE" merge --dry-run 2>&1) || { warn "cannot compare with the peer: $(echo "$out" | tail -n 2 | tr '\n' ' ')"; out="total 0"; }
    while IFS= read -r line; do change "$line" || true; done < <(echo "$out" | grep ': would remove ' || true)
    n=$(echo "$out" | sed -n 's/^total //p')
    [ "${n:-0}" = 0 ] || change "copy $n files this node lacks from its peer" || true
else
    out=$("$REPLICATE" prepare 2>&1 && "$REPLICATE" merge 2>&1) || fail "first sync with the peer failed (its rsyncd must answer): $(echo "$out" | tail -n 3 | tr '\n' ' ')"
    echo "$out" | grep -v '^total ' || true
    n=$(echo "$out" | sed -n 's/^total //p')
    [ "${n:-0}" = 0 ] || change "copied $n files this node lacked from its peer"
    removed=$(echo "$out" | grep -c ': removed ' || true)
    [ "$removed" = 0 ] || change "removed $removed files its peer deleted while they were apart"
fi
