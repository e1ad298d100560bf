# Shared by the shard steps (#include): another pair's rsyncd and the
# folders of a shard. Needs RSYNC_USER, PASSWORD_FILE and PREFIX.
common=(--contimeout=10 --timeout=120 --no-inc-recursive)
[ -z "$RSYNC_USER" ] || common+=("--password-file=$PASSWORD_FILE")
remote() { echo "${RSYNC_USER:+$RSYNC_USER@}$1::$2"; }

# shard_dirs SHARD: its folders under an image root, "4" -> /4, "4a" -> /4/a; also under the prefix
shard_dirs() {
    local s=$1 path base
    path=${s:0:1}
    [ ${#s} = 1 ] || path="$path/${s:1:1}"
    for base in "" ${PREFIX:+"/$PREFIX"}; do echo "$base/$path"; done
}

# shard_rules SHARD: rsync filter rules taking the shard's folders (end the list with "- *")
shard_rules() {
    local dir part sofar
    while read -r dir; do
        sofar=
        for part in $(tr / ' ' <<<"${dir%/*}"); do sofar="$sofar/$part"; echo "+ $sofar/"; done
        echo "+ $dir/***"
    done < <(shard_dirs "$1")
}

# The dropped folders: the folders ("/4/") of the shards whose copies were
# dropped here (drop-unserved.sh). lsyncd replays no removal there; a shard
# moving in again leaves the list.
# dropped_set add|remove SHARD...
dropped_set() {
    local op=$1 s; shift
    mkdir -p "$(dirname "$DROPPED_DIRS")"
    touch "$DROPPED_DIRS"
    for s in "$@"; do shard_dirs "$s"; done | sed 's|$|/|' > "$_tmp/dropped-lines"
    case $op in
        add) sort -u "$DROPPED_DIRS" "$_tmp/dropped-lines" ;;
        remove) grep -vxF -f "$_tmp/dropped-lines" "$DROPPED_DIRS" || true ;;
    esac > "$DROPPED_DIRS.new"
    mv -f "$DROPPED_DIRS.new" "$DROPPED_DIRS"
}
