# Directories nginx writes as www-data: each domain's files (DAV PUT)
# and its temp directories next to them. Never removed. Only
# the owner matters (nginx writes as it): a pull from the peer gives the
# folders it touches the replica group, the image root included.
DIRS=({{dirs}})
for d in "${DIRS[@]}"; do
    if [ ! -d "$d" ] || [ "$(stat -c %U "$d")" != www-data ]; then
        if change "create $d (owner www-data)"; then
            mkdir -p "$d" && chown www-data:www-data "$d" || fail "cannot create $d"
        fi
    fi
done
