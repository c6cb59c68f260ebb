#!/bin/sh
# The workload of fixtures/exec-tree.bin (make fixtures), the recording the offline tests
# of process trees, ancestry and counts read: a known process forest with the cases that
# make those views hard. Run as root (setpriv, ns_last_pid), from the repository root.
#   - a pipeline (siblings), and a script run through its interpreter
#   - one process that execs twice (sh → env → true: an exec chain)
#   - a failed exec, a non-zero exit, a process killed by SIGKILL
#   - an orphan: its parent exits first, and it is reparented
#   - a process of another user (uid 65534)
#   - two processes given the same pid, one after the other (ns_last_pid)
#   - a memfd exec and an exec of a deleted file
#   - an exec from a thread that is not the thread-group leader
set -u
# A PATH of two entries: the shells look the programs up without a row of failed execs.
PATH=/usr/bin:/bin
export PATH
progs=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/exectrace-tree.XXXXXX)
cd "$dir" || exit 1

printf 'b\na\nb\n' | sort | uniq -c > /dev/null
printf '#!/bin/sh\necho "$@" > /dev/null\n' > hello.sh
chmod +x hello.sh
./hello.sh 'from a script'
sh -c 'exec env /bin/true chained'
sh -c '/nonexistent/tool --flag 2> /dev/null; exit 3'
sleep 5 &
sleep 0.1
kill -KILL $!
wait $! 2> /dev/null
sh -c 'sleep 0.3 & exit 0'
sleep 0.5
setpriv --reuid=65534 --regid=65534 --clear-groups id -u > /dev/null
"$progs/fexec.out" reuse /usr/bin/true > /dev/null
cp /usr/bin/true del
"$progs/fexec.out" deleted del deleted-true
"$progs/fexec.out" memfd /usr/bin/true memfd-true
"$progs/execer.out" thread-exec /bin/echo 'exec from a thread' > /dev/null
cd / && rm -rf "$dir"
exit 0
