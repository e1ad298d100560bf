# nofile limits for login sessions (systemd services set LimitNOFILE in their
# units). A limit above what the host allows would lock every login out, so
# it is refused before it is written.
DEST={{path}}
NOFILE={{nofile}}
src=$(read_stdin)
nr_open=$(cat /proc/sys/fs/nr_open)
pid1_hard=$(awk '/^Max open files/ { print $5 }' /proc/1/limits)
if [ "$NOFILE" -gt "$nr_open" ]; then
    fail "pairstore:nofile $NOFILE is above this kernel's fs.nr_open ($nr_open); logins would fail. Set pairstore:nofile to $nr_open or less"
fi
if [ "$pid1_hard" != unlimited ] && [ "$NOFILE" -gt "$pid1_hard" ]; then
    fail "pairstore:nofile $NOFILE is above this host's hard limit ($pid1_hard, from PID 1); logins would fail. Set pairstore:nofile to $pid1_hard or less"
fi
install_file "$src" "$DEST" 644 || true
