# The shard plan in force as this node last applied it ("<shard> <pair>"
# lines on stdin), kept on the node so that a plan change that would strand
# files is refused before anything changes. A shard may change pair only
# with its files: moved in this run (a pair added, or one with retire: true,
# while the plan is pinned), or named in pairstore:shardsCopiedByHand.
# Removing a pair before its plan was pinned, growing without a pinned plan
# and a pinned plan edited by hand all look like plain config to the
# program; only the nodes remember which pair served a shard (and took its
# uploads).
PLAN_FILE=$STATE_DIR/{{plan_file}}
# "<shard> <from> <to>": this run's moves
MOVES=({{moves}})
# shards that may change pair without a copy (pairstore:shardsCopiedByHand)
BY_HAND=({{by_hand}})
new=$(read_stdin)

if [ -f "$PLAN_FILE" ]; then
    # "<shard> <old pair> <new pair>" for each shard whose pair changes (with
    # another shardDigits: each old shard against the new ones it overlaps)
    awk 'NR == FNR { old[$1] = $2; next }
        { new[$1] = $2 }
        END {
            for (n in new) {
                if (n in old) { if (old[n] != new[n]) print n, old[n], new[n]; continue }
                for (o in old)
                    if ((index(n, o) == 1 || index(o, n) == 1) && old[o] != new[n]) print n, old[o], new[n]
            }
        }' "$PLAN_FILE" "$new" | sort > "$_tmp/changes"
    stranded=()
    while read -r shard from to; do
        allowed=0
        for m in "${MOVES[@]}"; do [ "$m" != "$shard $from $to" ] || allowed=1; done
        for s in "${BY_HAND[@]}"; do [[ "$shard" != "$s"* && "$s" != "$shard"* ]] || allowed=1; done
        [ "$allowed" = 1 ] || stranded+=("$shard ($from -> $to)")
    done < "$_tmp/changes"
    if [ ${#stranded[@]} -gt 0 ]; then
        shards=$(printf '%s\n' "${stranded[@]}" | cut -d' ' -f1 | sort -u | tr '\n' ' ')
        # the plan this node served with, in the form of pairstore:shards
        last=$(awk '!($2 in s) { order[++n] = $2 } { s[$2] = s[$2] (s[$2] == "" ? "" : " ") $1 }
            END { printf "{"; for (i = 1; i <= n; i++) printf "%s\"%s\":\"%s\"", (i > 1 ? "," : ""), order[i], s[order[i]]; printf "}" }' "$PLAN_FILE")
        fail "refused: shards would change pair without their files: $(printf '%s, ' "${stranded[@]}" | sed 's/, $//'). \
The first pair named served them and took their uploads; the second would not find those files. Nothing was changed. \
Move shards with their files instead: keep that pair in pairstore:pairs, pin the plan this node served with \
(pulumi config set pairstore:shards '$last'), apply, then add a pair or set retire: true on one and apply. \
If their files were copied by hand, or the first pair never held any (it was never provisioned), accept this once: \
pulumi config set pairstore:shardsCopiedByHand '${shards% }', apply, then pulumi config rm pairstore:shardsCopiedByHand."
    fi
fi
install_file "$new" "$PLAN_FILE" 644 || true
