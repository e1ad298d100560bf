# inotify: lsyncd watches every directory of every image root. Reports whether
# this host's limits cover them and names the fs.inotify keys the host
# refused (the sysctl step tried to set them). Changes nothing.
ROOTS=({{roots}})
LAYOUT_DIRS={{layout_dirs}}
NEEDED={{needed}}
dirs=0
for r in "${ROOTS[@]}"; do
    n=$( [ -d "$r" ] && find "$r" -xdev -type d | wc -l || echo 0)
    [ "$n" -gt "$LAYOUT_DIRS" ] || n=$LAYOUT_DIRS
    dirs=$((dirs + n))
done
watches=$(cat /proc/sys/fs/inotify/max_user_watches)
queued=$(cat /proc/sys/fs/inotify/max_queued_events)
instances=$(cat /proc/sys/fs/inotify/max_user_instances)
want=$NEEDED
[ "$want" -gt "$dirs" ] || want=$((dirs + 8192))
if [ "$watches" -ge "$want" ]; then
    echo "inotify: fs.inotify.max_user_watches = $watches covers the $dirs directories lsyncd watches (wants at least $want)"
else
    warn "inotify: fs.inotify.max_user_watches = $watches is below the $want watches lsyncd needs for $dirs directories; raise it on this host (pairstore:sysctl)"
fi
echo "inotify: fs.inotify.max_queued_events = $queued, fs.inotify.max_user_instances = $instances"
refused=$(grep '^fs\.inotify\.' "$STATE_DIR/sysctl-refused" 2>/dev/null || true)
missing=()
while IFS= read -r line; do
    [ -n "$line" ] || continue
    key=$(echo "${line%%=*}" | xargs); val=$(echo "${line#*=}" | xargs)
    missing+=("$key (wants $val, stays $(cat "/proc/sys/${key//.//}" 2>/dev/null || echo '?'))")
done <<< "$refused"
[ ${#missing[@]} -eq 0 ] || warn "inotify: refused by this host: ${missing[*]}; set them where the kernel is managed (the container's host)"
