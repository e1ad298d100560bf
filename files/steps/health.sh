# Health gate: the node is healthy when its units are active, its mounts are
# in place, its URLs answer 200 and it holds its own addresses (heartbeat's
# resources). The peer's changing steps wait for this gate (rolling apply).
# Node revision (reruns the gate whenever the node changed): {{revision}}
UNITS=({{units}})
MOUNTS=({{mounts}})
URLS=({{urls}})
ADDRESSES=({{addresses}})
FILES=({{files}})
deadline=$((SECONDS + {{timeout}}))
while :; do
    bad=()
    for u in "${UNITS[@]}"; do systemctl is-active -q "$u" || bad+=("unit $u is $(systemctl is-active "$u" || true)"); done
    for m in "${MOUNTS[@]}"; do mountpoint -q "$m" || bad+=("$m is not mounted"); done
    for url in "${URLS[@]}"; do
        code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$url" || true)
        [ "$code" = 200 ] || bad+=("$url answers ${code:-nothing}")
    done
    for a in "${ADDRESSES[@]}"; do
        held=$(ip -o -4 addr show dev "${a%%=*}" 2>/dev/null || true)
        grep -qF " inet ${a#*=} " <<<"$held" || bad+=("${a#*=} is not up on ${a%%=*}")
    done
    for f in "${FILES[@]}"; do [ -e "$f" ] || bad+=("$f is missing"); done
    [ ${#bad[@]} -eq 0 ] && break
    if [ "$CHECK" = 1 ]; then
        change "node is not healthy: ${bad[*]}" || true
        break
    fi
    [ "$SECONDS" -lt "$deadline" ] || fail "node is not healthy: ${bad[*]}"
    sleep 1
done
[ ${#bad[@]} -gt 0 ] || echo "healthy: ${#UNITS[@]} units active, ${#MOUNTS[@]} mounts in place, ${#URLS[@]} URLs answer, ${#ADDRESSES[@]} addresses held${FILES[0]:+, ${#FILES[@]} flags present}"
