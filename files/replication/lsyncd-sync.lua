
-- {{domain}}
sync {
    default.rsync,
    source = "{{source}}/",
    target = "{{target}}",
    delay = {{delay}},
    delete = "running",
    -- pairstore's own folder and the marker stay local; every other name
    -- (hidden files of applications included) replicates
    exclude = { "/{{internal}}/", "/{{marker}}" },
    rsync = {
        binary = "{{wrapper}}",
        -- no owner or group: the peer's rsyncd writes as the web user with
        -- the group that marks a file as received
        archive = false,
        links = true,
        perms = true,
        times = true,{{password_file}}
        _extra = { "--contimeout=10", "--timeout=120", "--fsync" },
    },
}
