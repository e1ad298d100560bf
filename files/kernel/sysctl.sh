# Kernel tuning: installs the keys this kernel has and accepts into
# /etc/sysctl.d and applies them now. A key the kernel lacks or refuses is
# reported by name and left out of the file, so boot-time sysctl stays clean.
CONF={{conf}}
MODULES=({{modules}})
REFUSED_STATE=$STATE_DIR/sysctl-refused
src=$(read_stdin)
UNLOADABLE=$STATE_DIR/modules-unloadable
for m in "${MODULES[@]}"; do
    [ ! -d "/sys/module/$m" ] || continue
    if grep -qxF "$m" "$UNLOADABLE" 2>/dev/null; then
        # Known: containers and locked-down kernels cannot load modules; not drift.
        warn "kernel module $m cannot be loaded on this host; its keys are reported below"
    elif [ "$CHECK" = 1 ]; then
        change "load kernel module $m" || true
    elif modprobe "$m" 2>/dev/null; then
        change "load kernel module $m"
    else
        warn "kernel module $m could not be loaded on this host; its keys are reported below"
        mkdir -p "$STATE_DIR" && echo "$m" >> "$UNLOADABLE"
    fi
done
norm() { tr -s ' \t' '  ' < "$1" | sed 's/^ //; s/ $//'; }
out=$_tmp/conf
known_refused=$(cat "$REFUSED_STATE" 2>/dev/null || true)
: > "$_tmp/refused"
missing=() refused=()
while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in ''|'#'*) echo "$line" >> "$out"; continue ;; esac
    key=$(echo "${line%%=*}" | xargs)
    val=$(echo "${line#*=}" | xargs)
    path=/proc/sys/${key//.//}
    if [ ! -e "$path" ]; then
        missing+=("$key")
        continue
    fi
    cur=$(norm "$path")
    if [ "$cur" = "$val" ]; then
        echo "$key = $val" >> "$out"
        continue
    fi
    if grep -qxF "$key = $val" <<< "$known_refused"; then
        refused+=("$key (wants $val, stays $cur)")
        echo "$key = $val" >> "$_tmp/refused"
        continue
    fi
    if [ "$CHECK" = 1 ]; then
        change "set $key = $val (now $cur)" || true
        echo "$key = $val" >> "$out"
        continue
    fi
    if sysctl -q -w "$key=$val" >/dev/null 2>&1 && [ "$(norm "$path")" = "$val" ]; then
        change "set $key = $val (was $cur)"
        echo "$key = $val" >> "$out"
    else
        refused+=("$key (wants $val, stays $(norm "$path"))")
        echo "$key = $val" >> "$_tmp/refused"
    fi
done < "$src"
[ ${#missing[@]} -eq 0 ] || echo "sysctl: not in this kernel, not written: ${missing[*]}"
[ ${#refused[@]} -eq 0 ] || echo "sysctl: refused by this host, not written: ${refused[*]}"
install_file "$out" "$CONF" 644 || true
if [ "$CHECK" != 1 ]; then
    mkdir -p "$STATE_DIR"
    cp "$_tmp/refused" "$REFUSED_STATE"
fi
