
-- {{domain}}
sync {
    default.rsync,
    source = "{{source}}/",
    target = "{{target}}",
    delay = {{delay}},
    delete = "running",
    exclude = { ".*" },
    rsync = {
        binary = "{{wrapper}}",
        archive = true,{{password_file}}
        _extra = { "--contimeout=10", "--timeout=120" },
    },
}
