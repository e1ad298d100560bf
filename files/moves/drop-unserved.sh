# This node's copies of shards its pair no longer serves (pairs[].dropUnserved;
# on every apply, this run: {{run_id}}), removed once the pair serving them
# holds every file on both of its nodes (same name and size) or deleted it
# after this copy was written (its tombstone). A file that pair holds on
# neither node (written here after the last move, or uploaded to the wrong
# pair) is handed over first: PUT to its internal port, write-once, so
# nothing there is ever replaced. A file held there with other bytes, or on
# one node only, is named and nothing at all is removed. Only files listed
# and verified are removed (one arriving meanwhile stays). A hidden file
# (".name", written on disk by an application: nginx neither serves nor
# takes it) that pair lacks cannot be handed over: it stays, replicated
# with the peer as before. The shards join the dropped folders first: lsyncd
# replays none of these removals to the peer (which drops its own copies)
# and records no tombstone. nginx answers reads of these files from the
# pair serving them.
DATA_ROOT={{data_root}}
DOMAINS=({{domains}})
# each domain's internal port, in the order of DOMAINS
PORTS=({{ports}})
INTERNAL={{internal}}
PREFIX={{prefix}}
RSYNC_USER={{rsync_user}}
PASSWORD_FILE={{password_file}}
DROPPED_DIRS={{dropped_dirs}}
# "<pair serving them> <its first node> <its second node> <shard>..."
DROPS=({{drops}})
# how long handed-over files may take to reach both nodes of their pair
SETTLE_SECONDS=60

#include moves/shard-common.sh
#include replication/times.sh

# verify ROOT PAIR FIRST SECOND: sorts the files of $_tmp/here ("path<TAB>size")
# into $_tmp/ok (paths), $_tmp/absent (held on neither node), $_tmp/kept
# (hidden, held on neither node) and $_tmp/bad ("path<TAB>why")
verify() {
    local root=$1 pair=$2 h i p size t
    local -A held=()
    : > "$_tmp/ok"; : > "$_tmp/absent"; : > "$_tmp/kept"; : > "$_tmp/bad"
    for i in 1 2; do
        h=$3; [ "$i" = 1 ] || h=$4
        rsync -r --list-only --filter="merge $_tmp/rules" "${common[@]}" "$(remote "$h" "$d-refill")/" > "$_tmp/list" 2>"$_tmp/err" \
            || fail "$d: cannot list the files of $pair on $h ($(tail -n 1 "$_tmp/err")): nothing removed; apply again once it answers"
        while IFS=$'\t' read -r p size; do held[$i:$p]=$size; done < <(awk '/^-/ { size = $2; gsub(",", "", size); sub(/^[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +/, ""); print $0 "\t" size }' "$_tmp/list")
        rm -rf "$_tmp/tombs$i" && mkdir -p "$_tmp/tombs$i"
        rsync -rt --filter="merge $_tmp/rules" "${common[@]}" "$(remote "$h" "$d-refill")/$INTERNAL/tombstones/" "$_tmp/tombs$i/" 2>/dev/null || true
    done
    while IFS=$'\t' read -r p size; do
        if [ "${held[1:$p]:-}" = "$size" ] && [ "${held[2:$p]:-}" = "$size" ]; then echo "$p" >> "$_tmp/ok"; continue; fi
        # deleted there after this copy arrived here (its ctime: a client's Date header sets the mtime)
        for t in "$_tmp/tombs1/$p" "$_tmp/tombs2/$p"; do
            if [ -f "$t" ] && ! older "$(stat -c %.3Y "$t")" "$(stat -c %.3Z "$root/$p")"; then echo "$p" >> "$_tmp/ok"; continue 2; fi
        done
        if [ -z "${held[1:$p]:-}" ] && [ -z "${held[2:$p]:-}" ]; then
            case ${p##*/} in .*) echo "$p" >> "$_tmp/kept" ;; *) echo "$p" >> "$_tmp/absent" ;; esac
            continue
        fi
        printf '%s\t%s\n' "$p" "$size bytes here; $3: ${held[1:$p]:-none}, $4: ${held[2:$p]:-none}" >> "$_tmp/bad"
    done < "$_tmp/here"
}

problems=0 all=()
: > "$_tmp/remove"
for g in "${DROPS[@]}"; do
    read -r pair first second shards <<<"$g"
    read -ra shards <<<"$shards"
    all+=("${shards[@]}")
    for s in "${shards[@]}"; do shard_rules "$s"; done > "$_tmp/rules"
    echo "- *" >> "$_tmp/rules"
    for i in "${!DOMAINS[@]}"; do
        d=${DOMAINS[$i]} port=${PORTS[$i]}
        root=$DATA_ROOT/$d/image
        dirs=()
        for s in "${shards[@]}"; do while read -r dir; do [ ! -d "$root$dir" ] || dirs+=("${dir#/}"); done < <(shard_dirs "$s"); done
        [ ${#dirs[@]} -gt 0 ] || continue
        (cd "$root" && find "${dirs[@]}" -type f -printf '%p\t%s\n') > "$_tmp/here"
        [ -s "$_tmp/here" ] || continue
        verify "$root" "$pair" "$first" "$second"
        if [ -s "$_tmp/absent" ] && [ "$CHECK" = 1 ]; then
            change "$d: hand $(grep -c . "$_tmp/absent") files of shards ${shards[*]} over to $pair (it holds them on neither node)" || true
            : > "$_tmp/absent"
        elif [ -s "$_tmp/absent" ]; then
            handed=0
            : > "$_tmp/handed"
            while read -r p; do
                for h in "$first" "$second"; do
                    code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 60 -X PUT --data-binary "@$root/$p" "http://$h:$port/$p" 2>/dev/null)
                    case $code in 201|409) break ;; esac
                done
                case $code in
                    201) handed=$((handed + 1)); echo "$p" >> "$_tmp/handed" ;;
                    # stored there meanwhile (the peer handed it over): verified below like the others
                    409) echo "$p" >> "$_tmp/handed" ;;
                    *) printf '%s\t%s\n' "$p" "not on $pair, and handing it over failed (HTTP $code)" >> "$_tmp/bad" ;;
                esac
            done < "$_tmp/absent"
            [ "$handed" = 0 ] || change "$d: handed $handed files of shards ${shards[*]} over to $pair (it held them on neither node)" || true
            cp "$_tmp/bad" "$_tmp/bad-handover"
            # until those handed over (here or by the peer) reach both nodes there
            for ((w = 0; w < SETTLE_SECONDS; w += 2)); do
                [ -s "$_tmp/handed" ] || break
                sleep 2
                verify "$root" "$pair" "$first" "$second"
                { cut -f1 "$_tmp/bad"; cat "$_tmp/absent"; } > "$_tmp/pending"
                grep -qxF -f "$_tmp/pending" "$_tmp/handed" || break
            done
            cat "$_tmp/bad-handover" >> "$_tmp/bad"
        fi
        [ ! -s "$_tmp/kept" ] || echo "$d: keeping $(grep -c . "$_tmp/kept") hidden files of shards ${shards[*]} that $pair lacks (nginx cannot hand them over)"
        sed "s/\$/\tnot on $pair/" "$_tmp/absent" >> "$_tmp/bad"
        awk -F'\t' '!seen[$1]++' "$_tmp/bad" > "$_tmp/bad1" && mv "$_tmp/bad1" "$_tmp/bad"
        if [ -s "$_tmp/bad" ]; then
            n=$(grep -c . "$_tmp/bad")
            problems=$((problems + n))
            echo "$d: $n files of shards ${shards[*]} here are not held by both nodes of $pair:" >&2
            head -n 20 "$_tmp/bad" | while IFS=$'\t' read -r p why; do echo "  $p: $why" >&2; done
            [ "$n" -le 20 ] || echo "  ..." >&2
        else
            sed "s|^|$root/|" "$_tmp/ok" >> "$_tmp/remove"
        fi
    done
done
[ "$problems" = 0 ] || fail "$problems files here are not held by both nodes of the pair serving them: nothing removed. A file on one node there reaches the other with its catch-up (apply again in a few minutes); a file with other bytes there is a conflict: keep the right one (DELETE the other there, or remove this copy on disk), or keep these copies (dropUnserved: false)"

n=$(grep -c . "$_tmp/remove" || true)
[ "$n" != 0 ] || exit 0
change "drop $n files of shards ${all[*]}: the pairs serving them hold them" || exit 0
dropped_set add "${all[@]}"
tr '\n' '\0' < "$_tmp/remove" | xargs -0 rm -f --
