#!/bin/sh
# The workload of fixtures/query-net.bin (make fixtures), the recording the README's
# `query` examples and test/query.test.ts read: a process that connects out and then execs
# a shell (a reverse shell's shape), and opens under /etc that fail, as root and as
# another user (uid 65534). Run as root, from the repository root.
set -u
PATH=/usr/bin:/bin
export PATH
# connect to a listener of its own, then exec a shell that runs id
python3 -c '
import os, socket
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
c = socket.create_connection(srv.getsockname()); srv.accept()
os.execv("/bin/sh", ["sh", "-c", "id > /dev/null"])
'
cat /etc/hostname > /dev/null
cat /etc/exectrace-no-such-file 2> /dev/null
setpriv --reuid=65534 --regid=65534 --clear-groups cat /etc/shadow 2> /dev/null
setpriv --reuid=65534 --regid=65534 --clear-groups cat /etc/gshadow /etc/hostname > /dev/null 2>&1
exit 0
