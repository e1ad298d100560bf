# Shards this node's pair takes from other pairs (this run: {{run_id}}).
# Each shard's folders are copied, for every domain, from the pair that
# served it (its first node, else its second) before the shard's DNS records
# change (ShardDns waits for this step): never replacing a file, never a file
# deleted here (its tombstone), resuming where a cancelled run stopped; a
# file the old pair deleted after it was copied is removed here (the old
# pair's tombstones). The step runs on every apply until the new plan is
# pinned, so files that reach the old pair meanwhile (clients with cached
# DNS) follow. Files arrive with the replica group: lsyncd does not push
# them to the peer, which copies them itself. A shard whose copies this
# node once dropped leaves the dropped folders (lsyncd replays its deletes again).
DATA_ROOT={{data_root}}
DOMAINS=({{domains}})
INTERNAL={{internal}}
WEB_USER={{web_user}}
REPLICA_GROUP={{replica_group}}
PREFIX={{prefix}}
RSYNC_USER={{rsync_user}}
PASSWORD_FILE={{password_file}}
BWLIMIT={{bwlimit}}
DROPPED_DIRS={{dropped_dirs}}
# "<shard> <pair it comes from> <its first node> <its second node>"
MOVES=({{moves}})

#include moves/shard-common.sh
#include replication/times.sh

shards=()
for m in "${MOVES[@]}"; do read -r shard _ <<<"$m"; shards+=("$shard"); done
if [ -s "$DROPPED_DIRS" ] && [ "$CHECK" != 1 ]; then dropped_set remove "${shards[@]}"; fi

for m in "${MOVES[@]}"; do
    read -r shard from first second <<<"$m"
    { shard_rules "$shard"; echo "- *"; } > "$_tmp/rules"
    for d in "${DOMAINS[@]}"; do
        root=$DATA_ROOT/$d/image
        src=
        for h in "$first" "$second"; do
            if rsync "${common[@]}" --list-only "$(remote "$h" "$d-refill")/" >/dev/null 2>"$_tmp/err"; then src=$h; break; fi
        done
        [ -n "$src" ] || fail "shard $shard of $d: neither node of $from answers ($(tail -n 1 "$_tmp/err")): its DNS records stay on $from; apply again once one of them is back"

        # Never a file deleted here: this node's tombstones come first in the filter.
        { find "$root/$INTERNAL/tombstones" -type f -printf '/%P\n' 2>/dev/null || true; } | sed 's/[][*?\\]/\\&/g; s/^/- /' > "$_tmp/filter"
        cat "$_tmp/rules" >> "$_tmp/filter"
        args=(-rlpt --ignore-existing --filter="merge $_tmp/filter" --fsync --stats
              --temp-dir="$root/$INTERNAL/tmp/rsync" --chown="$WEB_USER:$REPLICA_GROUP" "${common[@]}")
        [ "$BWLIMIT" = 0 ] || args+=("--bwlimit=$BWLIMIT")
        [ "$CHECK" = 1 ] && args+=(--dry-run)
        start=$SECONDS
        rsync "${args[@]}" "$(remote "$src" "$d-refill")/" "$root/" > "$_tmp/stats" 2>"$_tmp/err" \
            || fail "shard $shard of $d: copy from $from ($src) failed: $(tail -n 2 "$_tmp/err" | tr '\n' ' ')(apply again: the copy resumes)"
        files=$(sed -n 's/^Number of regular files transferred: //p' "$_tmp/stats" | tr -d ,)
        bytes=$(sed -n 's/^Total transferred file size: \([0-9,]*\).*/\1/p' "$_tmp/stats" | tr -d ,)
        took=$((SECONDS - start))
        if [ "${files:-0}" != 0 ]; then
            change "shard $shard of $d: copy ${files} files (${bytes:-0} bytes) from $from ($src) in ${took} s" || true
        else
            echo "shard $shard of $d: nothing to copy from $from ($src), ${took} s"
        fi

        # Deletes made on the old pair since: its tombstones of this shard.
        rm -rf "$_tmp/tombs" && mkdir -p "$_tmp/tombs"
        rsync -rt --filter="merge $_tmp/rules" "${common[@]}" \
            "$(remote "$src" "$d-refill")/$INTERNAL/tombstones/" "$_tmp/tombs/" 2>/dev/null || true
        while IFS=' ' read -r -d '' t p; do
            f=$root/$p
            [ -f "$f" ] && older "$(stat -c %.3Z "$f")" "$t" || continue
            change "shard $shard of $d: remove $p, deleted on $from after it was copied" || continue
            rm -f -- "$f"
            runuser -u "$WEB_USER" -- mkdir -p -- "$root/$INTERNAL/tombstones/$(dirname "$p")"
            touch -d "@$t" -- "$root/$INTERNAL/tombstones/$p"
        done < <(find "$_tmp/tombs" -type f -printf '%T@ %P\0')
    done
done
