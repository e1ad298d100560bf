# Debian packages: install only those missing; refresh the package lists only
# when apt cannot find a candidate without it.
WANT=({{packages}})
missing=()
for p in "${WANT[@]}"; do
    if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" != installed ]; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -gt 0 ] && change "install ${missing[*]}"; then
    apt_install() { apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confold "${missing[@]}"; }
    if ! out=$(apt_install 2>&1); then
        apt-get update -q >/dev/null 2>&1 || warn "apt-get update failed"
        out=$(apt_install 2>&1) || fail "apt-get install ${missing[*]} failed: $(echo "$out" | tail -n 5)"
    fi
fi
