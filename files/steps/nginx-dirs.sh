# Directories nginx writes as www-data: each domain's files (DAV PUT,
# proxy_store) and its temp directories next to them. Never removed.
DIRS=({{dirs}})
for d in "${DIRS[@]}"; do
    if [ ! -d "$d" ] || [ "$(stat -c %U:%G "$d")" != www-data:www-data ]; then
        if change "create $d (owner www-data)"; then
            mkdir -p "$d" && chown www-data:www-data "$d" || fail "cannot create $d"
        fi
    fi
done
