#!/usr/bin/env bash
# The demo workload `make demo` records: a few ordinary commands, a pipeline, a script run
# through its interpreter, a command that fails to exec, and a non-zero exit.
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ls /etc | wc -l > /dev/null
uname -a > /dev/null
printf '#!/bin/sh\necho "hello from a script: $*"\n' > "$tmp/hello.sh"
chmod +x "$tmp/hello.sh"
"$tmp/hello.sh" 'with spaces' "and 'quotes'"
/nonexistent/tool --flag 2> /dev/null || true
sh -c 'exit 3' || true
sleep 0.2
