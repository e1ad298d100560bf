-- lsyncd: pushes every domain to the peer {{peer}} (managed by pairstore).
-- The peer runs the mirror image of this file; two-way replication is made
-- safe by design:
--  * delete = "running": deletes are replayed only while lsyncd runs. Its
--    startup sync never deletes, so a node that starts empty or partial
--    never wipes its peer (the unit refills it from the peer first).
--  * the rsync wrapper (lsyncd-rsync) drops --delete when an image root has
--    lost its marker ({{marker}}): a wiped or replaced disk does not replay
--    deletes; it records every delete as a tombstone, never pushes a file
--    received from the peer, and applies the peer's tombstones before the
--    startup sync, which never overwrites.
--  * insist: lsyncd starts while the peer is down; failed transfers are retried.
--  * pairstore's folder (.pairstore/: temporary files, tombstones, conflicts)
--    and the marker stay local; hidden files of applications replicate.
settings {
    nodaemon = true,
    insist = true,
    statusFile = "/run/pairstore-lsyncd.status",
    statusInterval = 10,
    maxProcesses = {{max_processes}},
}
{{syncs}}
