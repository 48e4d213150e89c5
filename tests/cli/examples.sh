#!/usr/bin/env bash
# The example case file checks itself (examples/run.sh): the findings of
# expected.tsv and the suggestions of examples/README.md.
# Usage: examples.sh PATH/TO/casewarden
exec "$(dirname "$0")/../../examples/run.sh" "${1:?usage: examples.sh CASEWARDEN}"
