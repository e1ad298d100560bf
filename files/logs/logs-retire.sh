# Log directories no longer configured: their logs go to the log processor,
# then the tmpfs is unmounted. Runs after nginx dropped the domain's site,
# so nothing writes there any more; what is left stays on disk in <dir>.retired.
DIRS=({{dirs}})
declare -A configured=()
for d in "${DIRS[@]}"; do configured[$d]=1; done
for old in $(findmnt -rn -t tmpfs -o TARGET | grep -E '^{{log_root}}/image\.[^/]+$' || true); do
    # (a lookup, not `printf | grep -q`: under pipefail, grep's early exit can
    # fail printf with SIGPIPE and make a configured directory look retired)
    [ -z "${configured[$old]:-}" ] || continue
    change "process and unmount $old (no longer configured)" || continue
    {{rotate}} "$old" || warn "log processing for $old failed; its files stay in $old.retired"
    mkdir -p "$old.retired" && cp -a "$old/." "$old.retired/" 2>/dev/null || true
    # nginx's old workers may hold a log open until their last request ends
    for _ in $(seq 1 20); do umount "$old" 2>/dev/null && break; sleep 0.5; done
    if mountpoint -q "$old"; then
        warn "$old is still busy; detaching it (the processes holding it keep writing into the detached tmpfs)"
        umount -l "$old"
    fi
done
