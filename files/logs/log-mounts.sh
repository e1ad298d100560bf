# tmpfs mounts for nginx's log directories: in /etc/fstab (one managed block)
# and mounted now. Files already in a directory are carried into its tmpfs.
# Directories no longer configured leave fstab here; logs-retire unmounts
# them once nginx has let go of them.
DIRS=({{dirs}})
SIZE={{size}}
OPTS="size=$SIZE,mode=0755,nosuid,nodev,noexec"
BEGIN="# BEGIN pairstore log tmpfs (managed by pairstore; change the stack config instead)"
END="# END pairstore log tmpfs"
to_kib() { local n=${1%[kmgKMG]}; case $1 in *[kK]) echo "$n" ;; *[mM]) echo $((n * 1024)) ;; *[gG]) echo $((n * 1048576)) ;; *) echo $((n / 1024)) ;; esac; }
want_kib=$(to_kib "$SIZE")

for d in "${DIRS[@]}"; do
    [ -d "$d" ] || { if change "create $d"; then mkdir -p "$d"; fi; }
done

{ echo "$BEGIN"; for d in "${DIRS[@]}"; do echo "tmpfs $d tmpfs $OPTS 0 0"; done; echo "$END"; } > "$_tmp/block"
sed "/^$BEGIN\$/,/^$END\$/d" /etc/fstab > "$_tmp/fstab"
cat "$_tmp/block" >> "$_tmp/fstab"
install_file "$_tmp/fstab" /etc/fstab 644 || true

for d in "${DIRS[@]}"; do
    if [ "$(findmnt -n -o FSTYPE --mountpoint "$d" 2>/dev/null || true)" = tmpfs ]; then
        have_kib=$(findmnt -n -o OPTIONS --mountpoint "$d" | tr ',' '\n' | sed -n 's/^size=\([0-9]*\)k$/\1/p')
        if [ "$have_kib" != "$want_kib" ] && change "resize tmpfs $d to $SIZE (was ${have_kib}k)"; then
            mount -o "remount,size=$SIZE" "$d"
        fi
    elif change "mount tmpfs on $d ($SIZE)"; then
        keep=$_tmp/keep${d//\//_}
        mkdir -p "$keep" && cp -a "$d/." "$keep/"
        mount "$d" || fail "mount $d failed"
        cp -a "$keep/." "$d/"
    fi
done
[ "$CHECK" = 1 ] || systemctl daemon-reload
